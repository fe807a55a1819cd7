// The SMTP message encoder: whatever the alert text holds, the DATA section ends only at the
// terminator we write, and the receiver's un-stuffing gives the text back (line ends as CRLF).
import fc from 'fast-check';
import { formatMessage } from '../src/channels/smtp';

describe('formatMessage', () => {
  it('dot-stuffs so the body never contains the end-of-data marker and round-trips', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom('.', '..', '.\r\n', '\n', '\r\n', 'a', ' '), fc.string()), { maxLength: 30 }),
        (parts) => {
          const text = parts.join('').replace(/\r(?!\n)/g, '');
          const message = formatMessage({ from: 'a@b.test', to: ['c@d.test'], subject: 's\r\nBcc: x@y.test', text });
          expect(`\r\n${message}`).not.toContain('\r\n.\r\n');
          const [head, ...rest] = message.split('\r\n\r\n');
          expect(head).not.toMatch(/\r\nBcc:/); // no header injection through the subject
          const body = rest.join('\r\n\r\n').replace(/^\.\./gm, '.');
          expect(body).toBe(`${text.replace(/\r?\n/g, '\r\n')}\r\n`);
        },
      ),
      { numRuns: 500 },
    );
  });
});
