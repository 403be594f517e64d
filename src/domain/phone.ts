import type { CountryCode, PhoneNumber } from 'libphonenumber-js/max';
import { invalid } from './errors.js';
import { lazyRequire } from './lazy.js';

/**
 * libphonenumber-js with its full metadata, loaded when a number is first read (~70 ms of
 * start-up otherwise). Its CommonJS build, the one that loads synchronously, reads numbers
 * exactly as the ES module build does (compared on 600,000 numbers of every country).
 */
const phones = lazyRequire<typeof import('libphonenumber-js/max')>('libphonenumber-js/max');
export const phoneLibrary = phones;

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
/** Direction marks and other invisible format characters address books wrap numbers in (U+202A ... U+202C). */
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

// The non-throwing parser: imports read millions of numbers, and a thrown error per failed reading costs more than the reading.
const tryParse = (text: string, country: CountryCode | undefined): PhoneNumber | undefined =>
  phones().parsePhoneNumberFromString(text, country);

/**
 * Mexico dropped the 1 after +52 from mobile numbers in 2019 (+52 1 55 1234 5678 is now +52 55 1234 5678);
 * address books and old integrations still write it, and the library no longer reads it.
 */
const withMexicanMobileRead = (p: PhoneNumber): PhoneNumber[] => {
  const current = /^\+521(\d{10})$/.exec(p.number);
  const read = current ? tryParse(`+52${current[1]}`, undefined) : undefined;
  return read ? [p, read] : [p];
};

/**
 * Reads a phone number as a person or a platform wrote it. Local numbers are read in the
 * organisation's country; bare international digits, as WhatsApp writes them
 * (2347063516620), are also read with a leading plus. The valid reading wins, the
 * national one first; failing that, one that is at least possible for its country.
 */
export function normalisePhone(input: string, defaultCountry: string, field = 'phone'): NormalisedPhone {
  const raw = input.replace(INVISIBLE, '').trim();
  if (raw.length === 0) throw invalid(field, 'must not be empty');
  if (raw.length > MAX_RAW_LENGTH) throw invalid(field, `must be at most ${MAX_RAW_LENGTH} characters`);
  if (!ALLOWED.test(raw)) throw invalid(field, 'may contain only digits, spaces, +, -, ., /, ( and )');
  const country = defaultCountry.toUpperCase() as CountryCode;
  const digits = raw.replace(/\D/g, '');
  if (digits.length < 4) throw invalid(field, 'is too short to be a phone number');
  const readings = [tryParse(raw, country)];
  if (!raw.startsWith('+') && !raw.startsWith('0')) readings.push(tryParse(`+${digits}`, undefined));
  const parsed = readings.filter((p): p is PhoneNumber => p !== undefined).flatMap(withMexicanMobileRead);
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

/** A number as an address book may hold it but no API caller sends it: kept as written, not read. */
export interface UnreadPhone {
  e164: null;
  raw: string;
  valid: false;
}

/** How an import read a number it could not take as it was. */
export interface PhoneReading {
  phone: NormalisedPhone | UnreadPhone;
  /** Why the number is kept raw, or what of it only phone_raw keeps. */
  warning?: { kind: 'phone_unreadable' | 'phone_extension'; reason: string };
}

/** The longest text an unreadable number is kept as. */
export const MAX_UNREAD_LENGTH = 100;

/**
 * An extension (";ext=102", " ext. 102", " x102", "#102") or dialling pauses and waits
 * ("p", "w", ",", ";" then digits), as phones store them after the number itself.
 */
const SUFFIX = /\s*(?:;\s*ext\s*=|\bext\.?|\bx|#|[pw,;])\s*[\dpw,;#*]*$/i;

/**
 * Reads a number as an imported address book holds it: a `tel:` URI, an extension or pauses
 * after the number (the number is read, the whole kept in phone_raw), invisible marks around
 * it. A number that still cannot be read (a short code such as 112, a digit too many) is kept
 * as written, unread, rather than losing the person it belongs to.
 */
export function readPhoneLeniently(input: string, defaultCountry: string): PhoneReading {
  const raw = input.replace(INVISIBLE, '').trim().slice(0, MAX_UNREAD_LENGTH);
  const number = raw.replace(/^tel:/i, '');
  const base = number.replace(SUFFIX, '');
  try {
    const phone = normalisePhone(base, defaultCountry);
    if (base === number) return { phone };
    return {
      phone: { ...phone, raw },
      warning: { kind: 'phone_extension', reason: `read as ${phone.e164}; the rest is kept in phone_raw` },
    };
  } catch (error) {
    const reason = (error as Error).message.replace(/^phone: /, '');
    return {
      phone: { e164: null, raw, valid: false },
      warning: { kind: 'phone_unreadable', reason: `${reason}; kept as written in phone_raw` },
    };
  }
}
