/**
 * KIP-848 regex subscriptions. Kafka evaluates them with RE2/J, which runs in linear time and has
 * no backreferences or lookaround. JavaScript's backtracking engine can take exponential time on
 * patterns such as `(a+)+` or `(a|aa)*`, which would stall the broker's event loop, so a pattern is
 * accepted only when it stays in the safe subset: bounded length, none of the constructs RE2
 * lacks, few repetitions, and no repeated group that itself contains a repetition or an
 * alternation.
 */

/** Longest subscription pattern accepted, in characters. */
export const subscriptionRegexLengthMax = 1000;
/**
 * Most repetitions (`*`, `+`, `{}`) in one pattern: backtracking over k of them costs up to n^k
 * steps on an n-character topic name (n <= 249), so k stays small.
 */
export const subscriptionRegexRepetitionsMax = 3;

/** Why a pattern is refused, or null when it is safe to compile. */
export function unsafeRegexReason(pattern: string): string | null {
  if (pattern.length > subscriptionRegexLengthMax) {
    return `longer than ${subscriptionRegexLengthMax} characters`;
  }
  if (/\\[1-9]|\\k</.test(pattern)) return 'backreferences are not supported';
  if (/\(\?<?[=!]/.test(pattern)) return 'lookaround is not supported';
  // Track, for each open group, whether its content repeats or alternates.
  const groups: { risky: boolean }[] = [];
  let risky = false; // of the group (or atom) that just closed
  let repetitions = 0;
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index];
    if (char === '\\') {
      index++;
      risky = false;
      continue;
    }
    if (char === '[') {
      // Skip a character class: its quantifier characters are literals.
      index++;
      if (pattern[index] === ']') index++;
      while (index < pattern.length && pattern[index] !== ']') {
        if (pattern[index] === '\\') index++;
        index++;
      }
      risky = false;
      continue;
    }
    const quantifier = char === '*' || char === '+' || char === '{';
    if (quantifier) {
      if (risky) return 'a repeated group contains a repetition or an alternation';
      if (++repetitions > subscriptionRegexRepetitionsMax) {
        return `more than ${subscriptionRegexRepetitionsMax} repetitions`;
      }
      if (groups.length > 0) groups[groups.length - 1].risky = true;
      risky = false;
      continue;
    }
    if (char === '(') {
      groups.push({ risky: false });
      risky = false;
    } else if (char === ')') {
      risky = groups.pop()?.risky ?? false;
      if (risky && groups.length > 0) groups[groups.length - 1].risky = true;
    } else if (char === '|') {
      if (groups.length > 0) groups[groups.length - 1].risky = true;
      risky = false;
    } else {
      risky = false;
    }
  }
  return null;
}

/** Full-match compilation (Kafka matches the whole topic name); null when invalid or unsafe. */
export function compileRegex(pattern: string): RegExp | null {
  if (unsafeRegexReason(pattern) !== null) return null;
  try {
    return new RegExp(`^(?:${pattern})$`, 'u');
  } catch {
    return null;
  }
}
