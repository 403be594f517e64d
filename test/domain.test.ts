import { describe, expect, it } from 'vitest';
import { displayName, searchDocument, searchTokens, validateCustom } from '../src/domain/contact.js';
import { normaliseEmail } from '../src/domain/email.js';
import { DomainError } from '../src/domain/errors.js';
import { fromObjectId, isUuid, toObjectId, uuidv7 } from '../src/domain/ids.js';
import { normalisePhone } from '../src/domain/phone.js';
import { can } from '../src/domain/roles.js';

const fieldOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return (error as DomainError).details.fields?.[0];
  }
  throw new Error('expected a DomainError');
};

describe('phone normalisation', () => {
  it('reads local numbers in the default country and keeps the input', () => {
    expect(normalisePhone('0412 345 678', 'AU')).toEqual({
      e164: '+61412345678',
      raw: '0412 345 678',
      valid: true,
    });
    expect(normalisePhone('(02) 9374 4000', 'au').e164).toBe('+61293744000');
    expect(normalisePhone('+44 20 7946 0958', 'AU').e164).toBe('+442079460958');
  });

  it('reads bare international digits as WhatsApp writes them', () => {
    expect(normalisePhone('2347063516620', 'NG').e164).toBe('+2347063516620');
    expect(normalisePhone('2347063516620', 'US').e164).toBe('+2347063516620');
  });

  it('reads a Mexican mobile number written with the 1 Mexico dropped in 2019 as the number it is now', () => {
    for (const written of ['+52 1 55 1234 5678', '5215512345678', '+5215512345678'])
      expect(normalisePhone(written, 'US'), written).toMatchObject({ e164: '+525512345678', valid: true });
    expect(normalisePhone('+52 1 55 1234 5678', 'US').raw).toBe('+52 1 55 1234 5678');
  });

  it('prefers the national reading when both are valid', () => {
    expect(normalisePhone('2025550123', 'US').e164).toBe('+12025550123');
  });

  it('flags possible-but-unassigned numbers instead of refusing them', () => {
    const result = normalisePhone('+61 412 34', 'AU', 'phone');
    expect(result.valid).toBe(false);
  });

  it('refuses letters, tiny and impossible numbers, naming the field', () => {
    expect(fieldOf(() => normalisePhone('0412 abc', 'AU', 'number'))).toMatchObject({ field: 'number' });
    expect(fieldOf(() => normalisePhone('12', 'AU'))?.message).toContain('too short');
    expect(fieldOf(() => normalisePhone('+1 555', 'US'))?.message).toContain('not a possible');
  });
});

describe('email normalisation', () => {
  it('trims and lower-cases valid addresses and refuses others', () => {
    expect(normaliseEmail('  Ada@Example.COM ')).toBe('ada@example.com');
    for (const bad of ['ada', 'ada@', '@example.com', 'a b@example.com', 'ada@example'])
      expect(() => normaliseEmail(bad)).toThrow(DomainError);
  });
});

describe('ids', () => {
  it('makes time-ordered UUID v7s', () => {
    const a = uuidv7(1_000);
    const b = uuidv7(2_000);
    expect(isUuid(a)).toBe(true);
    expect(a[14]).toBe('7');
    expect(a < b).toBe(true);
  });

  it('derives stable 24-hex ids from keys that never open another kind', () => {
    const id = toObjectId('contact', 123456);
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    expect(fromObjectId('contact', id)).toBe(123456);
    expect(fromObjectId('group', id)).toBeUndefined();
    expect(fromObjectId('contact', 'zz' + id.slice(2))).toBeUndefined();
  });
});

describe('contact rules', () => {
  it('keeps a given name and builds one from parts otherwise', () => {
    expect(displayName({ name: 'DJ Ada', first_name: 'Ada' })).toBe('DJ Ada');
    expect(displayName({ first_name: 'Ada', middle_name: 'King', last_name: 'Lovelace' })).toBe(
      'Ada King Lovelace',
    );
    expect(displayName({ company: 'Acme' })).toBe('Acme');
    expect(displayName({ phone: '+61412345678' })).toBe('+61412345678');
  });

  it('indexes the same words it searches for', () => {
    const doc = searchDocument({
      display_name: 'Zoë Ödegaard',
      first_name: 'Zoë',
      middle_name: null,
      last_name: 'Ödegaard',
      company: 'Acme-Corp',
      email: 'zoe@example.com',
      phone: '+61412345678',
      phone_raw: '0412 345 678',
    });
    for (const word of searchTokens('zoë ödegaard acme corp zoe example 61412345678 0412345678'))
      expect(doc.split(' ')).toContain(word);
  });

  it('limits custom attributes', () => {
    expect(validateCustom({ tier: 'gold', points: 3, vip: true })).toEqual({
      tier: 'gold',
      points: 3,
      vip: true,
    });
    expect(() => validateCustom({ 'bad key': 1 })).toThrow(DomainError);
    expect(validateCustom({ note: 'x'.repeat(10_000) })).toEqual({ note: 'x'.repeat(10_000) });
    expect(() => validateCustom({ long: 'x'.repeat(10_001) })).toThrow(DomainError);
    expect(() =>
      validateCustom(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i]))),
    ).toThrow(DomainError);
  });
});

describe('roles', () => {
  it('lets each role do what the roles below it may', () => {
    expect(can('viewer', 'read')).toBe(true);
    expect(can('viewer', 'write')).toBe(false);
    expect(can('editor', 'write')).toBe(true);
    expect(can('editor', 'manage_users')).toBe(false);
    expect(can('admin', 'manage_users')).toBe(true);
    expect(can('admin', 'own')).toBe(false);
    expect(can('owner', 'own')).toBe(true);
  });
});

describe('country codes', () => {
  it('knows real ISO 3166-1 codes from other pairs of letters', async () => {
    const { isCountryCode } = await import('../src/domain/phone.js');
    expect(['AU', 'NG', 'US', 'GB'].every(isCountryCode)).toBe(true);
    expect(['XX', 'ZZ', 'au', 'AUS'].some(isCountryCode)).toBe(false);
  });
});
