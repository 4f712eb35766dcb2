/** The content a crash-test child writes at each offset (mirrors test/fixtures/crash-producer.mjs). */
export function expectedRecord(offset: number): string {
  return `${offset}:${'x'.repeat(offset % 97)}`;
}
