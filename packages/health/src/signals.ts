// handleSignals: the first SIGTERM/SIGINT drains and exits 0 (1 if shutdown itself failed); a
// second one while draining exits at once with 128 + the signal number, as shells report it.
import type { Logger } from '@periscope/core';
import { errorMessage } from './errors';

const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export class SignalHandlers {
  private handler: ((signal: NodeJS.Signals) => void) | undefined;
  private received: NodeJS.Signals | undefined;

  constructor(
    private readonly shutdown: (reason: string) => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  install(): void {
    if (this.handler) return;
    this.handler = (signal) => {
      if (this.received) {
        // Second signal: the operator wants out now.
        this.logger.warn('second signal during shutdown; exiting now', { signal });
        process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 1));
      }
      this.received = signal;
      this.shutdown(signal).then(
        () => process.exit(0),
        (err: unknown) => {
          this.logger.error('shutdown failed', { error: errorMessage(err) });
          process.exit(1);
        },
      );
    };
    for (const s of SIGNALS) process.on(s, this.handler);
  }

  remove(): void {
    if (!this.handler) return;
    for (const s of SIGNALS) process.off(s, this.handler);
    this.handler = undefined;
  }
}
