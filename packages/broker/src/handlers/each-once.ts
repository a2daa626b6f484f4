/**
 * Batch admin requests (CreateTopics, CreatePartitions, DeleteTopics) answer their entries in
 * order, one at a time; an entry whose key appears more than once is refused for every occurrence
 * and not acted on, as Kafka does ("appears more than once", INVALID_REQUEST).
 */
export async function answerEachOnce<Entry, Answer>(
  entries: readonly Entry[],
  options: {
    keyOf: (entry: Entry) => string;
    answer: (entry: Entry) => Promise<Answer>;
    repeated: (entry: Entry) => Answer;
  },
): Promise<Answer[]> {
  const counts = new Map<string, number>();
  for (const entry of entries) {
    const key = options.keyOf(entry);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const answers: Answer[] = [];
  for (const entry of entries) {
    const repeated = (counts.get(options.keyOf(entry)) ?? 0) > 1;
    answers.push(repeated ? options.repeated(entry) : await options.answer(entry));
  }
  return answers;
}
