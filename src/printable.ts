/**
 * Text the library and the CLI print for a person, made safe for a terminal: a name found in a log
 * directory (a file name, a lock file's host) may hold control characters, which would drive the
 * terminal (an escape sequence sets its title or clears it) or break a line. They are printed as
 * `\u` escapes.
 */

// Every C0 control, DEL, the C1 controls (U+009B is CSI on terminals that take 8-bit controls) and
// the Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

// The same but the tab and the newline: what printed text may hold that JSON.stringify's output or a
// formatted report never holds raw outside its layout.
// eslint-disable-next-line no-control-regex
const CONTROLS_BUT_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;

const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** A name as printed: each control character (C0, DEL, C1, U+2028/2029) written as a `\u` escape. */
export function printable(name: string): string {
  return name.replace(CONTROLS, escape);
}

/**
 * Output as printed: each control character but the tab and the newline written as a `\u` escape.
 * In JSON.stringify's output the characters it leaves raw (DEL, C1, U+2028/2029) can only stand
 * inside strings, where the escape stands for the same character: the JSON parses back the same.
 */
export function printableOutput(text: string): string {
  return text.replace(CONTROLS_BUT_LAYOUT, escape);
}
