// Values in messages: an error line names a value, it does not carry it. Every value a message
// echoes (a config string, a flag's argument, a path from the input) goes through quote() or
// clip(), so a 4 KiB mount option or a 50 MB hostname shows as its first ~80 characters.
// oneLine() is the last guard where a failure is printed: no newline, bounded length.

/** The most characters of one value a message shows. */
export const VALUE_CHARS_MAX = 80;
/** The most characters of one error line (a message with a few values and paths fits). */
export const MESSAGE_CHARS_MAX = 1024;

/** `value` itself when short, else its start and its end around "..." (a path keeps its last name). */
export function clip(value: string, max = VALUE_CHARS_MAX): string {
  if (value.length <= max) return value;
  const tail = Math.floor((max - 3) / 3);
  return `${value.slice(0, max - 3 - tail)}...${value.slice(value.length - tail)}`;
}

/** `value` as a JSON string literal of at most VALUE_CHARS_MAX of its characters, cut as clip() cuts (`"abc...xyz"`). */
export function quote(value: unknown): string {
  const s = String(value);
  if (s.length <= VALUE_CHARS_MAX) return JSON.stringify(s);
  const tail = Math.floor((VALUE_CHARS_MAX - 3) / 3);
  return `${JSON.stringify(s.slice(0, VALUE_CHARS_MAX - 3 - tail)).slice(0, -1)}...${JSON.stringify(s.slice(s.length - tail)).slice(1)}`;
}

/** A message as one line: line breaks escaped, cut in the middle past MESSAGE_CHARS_MAX. */
export function oneLine(message: string): string {
  const flat = message.replace(/\r\n|[\r\n]/g, (m) => (m === "\r\n" ? "\\r\\n" : m === "\n" ? "\\n" : "\\r"));
  if (flat.length <= MESSAGE_CHARS_MAX) return flat;
  const head = Math.floor(MESSAGE_CHARS_MAX * 0.7);
  return `${flat.slice(0, head)} ... ${flat.slice(flat.length - (MESSAGE_CHARS_MAX - head - 5))}`;
}

/** Go's strconv.Quote (what %q prints): escapes quotes, backslashes and non-printable runes. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (cp >= 0x20 && cp < 0x7f) out += ch;
    else if (NAMED_ESCAPES[ch]) out += NAMED_ESCAPES[ch];
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`;
    else if ((cp >= 0x80 && cp < 0xa0) || cp === 0x2028 || cp === 0x2029 || cp === 0xfeff) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}
const NAMED_ESCAPES: Record<string, string> = { "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v" };
