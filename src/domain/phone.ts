import type { CountryCode, PhoneNumber } from 'libphonenumber-js/max';
import { invalid } from './errors.js';
import { lazyRequire } from './lazy.js';

/**
 * libphonenumber-js with its full metadata, loaded when a number is first read (~70 ms of
 * start-up otherwise). Its CommonJS build, the one that loads synchronously, reads numbers
 * exactly as the ES module build does (compared on 600,000 numbers of every country).
 */
const phones = lazyRequire<typeof import('libphonenumber-js/max')>('libphonenumber-js/max');

export interface NormalisedPhone {
  /** E.164, e.g. +61412345678 */
  e164: string;
  /** The input as given, trimmed. */
  raw: string;
  /** True when the number is in a valid, assigned range; false when merely possible. */
  valid: boolean;
}

const ALLOWED = /^[+\d\s().\-/]+$/;
const MAX_RAW_LENGTH = 40;

// The non-throwing parser: imports read millions of numbers, and a thrown error per failed reading costs more than the reading.
const tryParse = (text: string, country: CountryCode | undefined): PhoneNumber | undefined =>
  phones().parsePhoneNumberFromString(text, country);

/**
 * Reads a phone number as a person or a platform wrote it. Local numbers are read in the
 * organisation's country; bare international digits, as WhatsApp writes them
 * (2347063516620), are also read with a leading plus. The valid reading wins, the
 * national one first; failing that, one that is at least possible for its country.
 */
export function normalisePhone(input: string, defaultCountry: string, field = 'phone'): NormalisedPhone {
  const raw = input.trim();
  if (raw.length === 0) throw invalid(field, 'must not be empty');
  if (raw.length > MAX_RAW_LENGTH) throw invalid(field, `must be at most ${MAX_RAW_LENGTH} characters`);
  if (!ALLOWED.test(raw)) throw invalid(field, 'may contain only digits, spaces, +, -, ., /, ( and )');
  const country = defaultCountry.toUpperCase() as CountryCode;
  const digits = raw.replace(/\D/g, '');
  if (digits.length < 4) throw invalid(field, 'is too short to be a phone number');
  const readings = [tryParse(raw, country)];
  if (!raw.startsWith('+') && !raw.startsWith('0')) readings.push(tryParse(`+${digits}`, undefined));
  const parsed = readings.filter((p): p is PhoneNumber => p !== undefined);
  // Validity is the costly part of a reading: asked once per reading, not again of the chosen one.
  const valid = parsed.find((p) => p.isValid());
  const chosen = valid ?? parsed.find((p) => p.isPossible());
  if (!chosen) throw invalid(field, `is not a possible phone number (read with default country ${country})`);
  return { e164: chosen.number, raw, valid: valid !== undefined };
}

/** The phone as the WhatsApp and SMS platforms write it: E.164 digits without the plus. */
export const phoneDigits = (e164: string) => e164.replace(/^\+/, '');

export const isCountryCode = (value: string) =>
  /^[A-Z]{2}$/.test(value) && phones().isSupportedCountry(value);
