// kstrtobool (lib/kstrtox.c): the kernel's reading of a boolean from a string, per kernel.

/** The letters kstrtobool takes besides y/Y/1, n/N/0 and on/off: t/T f/F from 5.19, e/E d/D from 6.18. */
export interface KstrtoboolLetters {
  readonly trueFalse: boolean;
  readonly enableDisable: boolean;
}

/** Every letter any modelled kernel takes (for checking input before the kernel is known). */
export const KSTRTOBOOL_ANY: KstrtoboolLetters = { trueFalse: true, enableDisable: true };

/** The kstrtobool letters of a kernel profile's features. */
export function kstrtoboolLetters(f: { readonly kstrtoboolTrueFalse: boolean; readonly kstrtoboolEnableDisable: boolean }): KstrtoboolLetters {
  return { trueFalse: f.kstrtoboolTrueFalse, enableDisable: f.kstrtoboolEnableDisable };
}

/** kstrtobool (lib/kstrtox.c; 5.3, 6.1, 6.18): the first character decides, "on"/"off" the second; null is -EINVAL. */
export function kstrtobool(text: string, letters: KstrtoboolLetters): boolean | null {
  const c = text[0];
  if (c === '1' || c === 'y' || c === 'Y') return true;
  if (c === '0' || c === 'n' || c === 'N') return false;
  if (letters.trueFalse && (c === 't' || c === 'T')) return true;
  if (letters.trueFalse && (c === 'f' || c === 'F')) return false;
  if (letters.enableDisable && (c === 'e' || c === 'E')) return true;
  if (letters.enableDisable && (c === 'd' || c === 'D')) return false;
  if (c === 'o' || c === 'O') {
    const d = text[1];
    if (d === 'n' || d === 'N') return true;
    if (d === 'f' || d === 'F') return false;
  }
  return null;
}
