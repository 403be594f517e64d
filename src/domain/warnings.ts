/**
 * What an import kept of a row but could not take as written: the row is imported, and the
 * report counts these by kind and lists each with its row, field, value and reason.
 */
export interface FieldWarning {
  kind: WarningKind;
  /** The contact field, or `file` for what concerns the whole file. */
  field: string;
  value: string;
  reason: string;
}

export type WarningKind =
  /** A number that cannot be read: kept as written in phone_raw, with phone_valid false. */
  | 'phone_unreadable'
  /** A number read, with an extension or pauses after it that only phone_raw keeps. */
  | 'phone_extension'
  /** An email address that is not one: left out. */
  | 'email_invalid'
  /** Any other field that breaks its rule (too long, not a URL...): left out. */
  | 'field_invalid'
  /** Text whose encoding was guessed, not known: check it reads right, or import again with encoding=. */
  | 'encoding_guessed';

export type WarningSink = (warning: FieldWarning) => void;
