/** Validators for config values, each carrying a description of what it allows. */
import type { ConfigValidator, ConfigValue } from './config-types.js';

function isNumber(value: ConfigValue): value is number {
  return typeof value === 'number';
}

/** Inclusive numeric range; either bound may be omitted. */
export function between(options: { min?: number; max?: number }): ConfigValidator {
  const { min, max } = options;
  const allowed =
    min !== undefined && max !== undefined
      ? `a value in [${min}, ${max}]`
      : min !== undefined
        ? `a value >= ${min}`
        : `a value <= ${max}`;
  return {
    allowed,
    check(value) {
      if (!isNumber(value)) return allowed;
      if (min !== undefined && value < min) return allowed;
      if (max !== undefined && value > max) return allowed;
      return undefined;
    },
  };
}

export function atLeast(min: number): ConfigValidator {
  return between({ min });
}

/** A string that must be one of `choices`; `caseInsensitive` follows Kafka where it is lenient. */
export function oneOf(
  choices: readonly string[],
  options: { caseInsensitive?: boolean } = {},
): ConfigValidator {
  const allowed = `one of ${choices.join(', ')}`;
  const normalized = options.caseInsensitive ? choices.map((c) => c.toLowerCase()) : choices;
  return {
    allowed,
    check(value) {
      if (typeof value !== 'string') return allowed;
      const candidate = options.caseInsensitive ? value.toLowerCase() : value;
      return normalized.includes(candidate) ? undefined : allowed;
    },
  };
}

/** A list whose every element is one of `choices`; `allowEmpty` false rejects the empty list. */
export function listOf(
  choices: readonly string[],
  options: { allowEmpty?: boolean } = {},
): ConfigValidator {
  const allowEmpty = options.allowEmpty ?? true;
  const allowed = `a comma-separated list of ${choices.join(', ')}${allowEmpty ? '' : ' (not empty)'}`;
  return {
    allowed,
    check(value) {
      if (!Array.isArray(value)) return allowed;
      if (!allowEmpty && value.length === 0) return allowed;
      const unknown = value.filter((element) => !choices.includes(element));
      if (unknown.length > 0) return `${allowed}; unknown: ${unknown.join(', ')}`;
      return undefined;
    },
  };
}

export function nonEmptyString(): ConfigValidator {
  const allowed = 'a non-empty string';
  return {
    allowed,
    check: (value) => (typeof value === 'string' && value.length > 0 ? undefined : allowed),
  };
}

export function nonEmptyList(): ConfigValidator {
  const allowed = 'a non-empty comma-separated list';
  return {
    allowed,
    check: (value) => (Array.isArray(value) && value.length > 0 ? undefined : allowed),
  };
}

/** Either exactly `special` or a value satisfying `validator` (e.g. -1 or [1, 9]). */
export function orSpecial(special: number, validator: ConfigValidator): ConfigValidator {
  const allowed = `${special} or ${validator.allowed}`;
  return {
    allowed,
    check: (value) => (value === special ? undefined : validator.check(value) && allowed),
  };
}

/** A boolean feature Gregor does not implement: only false is accepted. */
export function mustBeFalse(feature: string): ConfigValidator {
  const allowed = `false (${feature} is not supported by Gregor)`;
  return { allowed, check: (value) => (value === false ? undefined : allowed) };
}
