import type { CountryCode } from 'libphonenumber-js/max';
import { phoneLibrary } from './phone.js';

/** What a file's local numbers say about the country they were written in. */
export interface CountryHint {
  /** The country the numbers were read in. */
  given: string;
  /** The country most of them are valid in, when that is another. */
  suggested: string;
  /** Local numbers looked at (the first ones of the file). */
  sampled: number;
  valid_given: number;
  valid_suggested: number;
}

/** Enough numbers to tell a file's country. */
const SAMPLE = 200;
/** The numbers tried in every country (~250 each) to find the countries worth counting. */
const PROBES = 10;
const LOCAL = /^[\d\s().\-/]+$/;

/**
 * Watches the local-format numbers of a file (no "+", no international prefix) and tells
 * whether most of them are valid numbers of a country other than the one they are read in:
 * a Google export of Indian contacts imported with the default country US makes +1 numbers
 * of 10-digit Indian mobiles, many of them "valid" American ones.
 */
export class CountryHintSampler {
  private readonly sample: string[] = [];

  constructor(private readonly given: string) {}

  add(phone: string | null | undefined): void {
    if (!phone || this.sample.length >= SAMPLE) return;
    const text = phone.trim();
    if (!LOCAL.test(text) || text.startsWith('00') || text.replace(/\D/g, '').length < 6) return;
    this.sample.push(text);
  }

  /** Whether the sample is complete: later numbers cannot change the hint. */
  get complete(): boolean {
    return this.sample.length >= SAMPLE;
  }

  /** The hint, when another country reads more than half the sample and more of it than the given one. */
  hint(): CountryHint | undefined {
    if (this.sample.length === 0) return undefined;
    const lib = phoneLibrary();
    const validAs = (n: string, country: string) =>
      lib.parsePhoneNumberFromString(n, country as CountryCode)?.isValid() === true;
    const validIn = (country: string) => this.sample.filter((n) => validAs(n, country)).length;
    const validGiven = validIn(this.given);
    let best = { country: this.given, valid: validGiven };
    const candidates = new Set(
      lib.getCountries().filter((c) => this.sample.slice(0, PROBES).some((n) => validAs(n, c))),
    );
    candidates.delete(this.given as CountryCode);
    for (const country of candidates) {
      const valid = validIn(country);
      if (valid > best.valid) best = { country, valid };
    }
    if (best.country === this.given || best.valid * 2 <= this.sample.length) return undefined;
    return {
      given: this.given,
      suggested: best.country,
      sampled: this.sample.length,
      valid_given: validGiven,
      valid_suggested: best.valid,
    };
  }
}
