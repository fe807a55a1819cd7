// Message templates: the variable parts of a log message (ids, numbers, addresses) replaced by
// placeholders, so "user 17 timed out after 3000 ms" and "user 42 timed out after 2500 ms"
// count as one message.

const RULES: readonly [RegExp, string][] = [
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  [/\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g, '<email>'],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s"']+/gi, '<url>'],
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, '<ip>'],
  [/\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?/g, '<time>'],
  // Hex ids (trace ids, hashes, object ids) with at least one digit so ordinary words stay.
  [/\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi, '<hex>'],
  // Tokens mixing letters and digits (req_8f3k2, task-42a): ids of some kind.
  [/\b(?=[A-Za-z_-]*\d)(?=\w*[A-Za-z])[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*\b/g, '<id>'],
  [/-?\b\d+(?:\.\d+)?\b/g, '<num>'],
];

/** The template of a message: ids, numbers, addresses and times replaced by `<uuid>`, `<num>`, … */
export function messageTemplate(message: string): string {
  let out = message.length > 500 ? message.slice(0, 500) : message;
  for (const [re, placeholder] of RULES) out = out.replace(re, placeholder);
  return out;
}
