import { invalid } from './errors.js';

const MAX_LENGTH = 254;
// Deliberately pragmatic (WHATWG's rule for input[type=email]): strict RFC 5322 admits
// addresses no mail provider hands out, and a looser rule admits typos.
const EMAIL =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/;

/** Trims and lower-cases an address so that lookups match however it was typed. */
export function normaliseEmail(input: string, field = 'email'): string {
  const email = input.trim().toLowerCase();
  if (email.length > MAX_LENGTH) throw invalid(field, `must be at most ${MAX_LENGTH} characters`);
  if (!EMAIL.test(email)) throw invalid(field, 'is not a valid email address');
  return email;
}
