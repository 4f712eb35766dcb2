/** The content recovery tests write at each offset: self-describing, so a read-back names what is wrong. */
export function expectedRecord(offset: number): string {
  return `${offset}:${'x'.repeat(offset % 97)}`;
}
