/**
 * The choice with the most votes (first counted wins a tie); null when nobody voted. Classic
 * groups elect their protocol this way, KIP-848 groups their server-side assignor.
 */
export function mostVoted(votes: Iterable<string | null | undefined>): string | null {
  const counts = new Map<string, number>();
  for (const vote of votes) {
    if (vote !== null && vote !== undefined) counts.set(vote, (counts.get(vote) ?? 0) + 1);
  }
  let best: string | null = null;
  let bestCount = 0;
  for (const [choice, count] of counts) {
    if (count > bestCount) {
      best = choice;
      bestCount = count;
    }
  }
  return best;
}
