/** Counted nouns and their verbs in messages: "1 row has", "3 rows have" (never "1 row(s)"). */

/** "1 row", "2 rows"; `many` for irregular plurals. */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The verb agreeing with a count: agree(1, 'has', 'have') is 'has'. */
export function agree(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}
