/**
 * What is wrong with a password, or null when it is acceptable: at least 8
 * characters, not blank, not one character repeated, not a run like
 * "12345678" or "abcdefgh", and not in a short list of the most common
 * passwords (compared case-insensitively, ignoring a trailing run of digits
 * and punctuation, so "Password1!" counts as "password").
 *
 *   passwordProblem('        ')              -> 'must not be blank'
 *   passwordProblem('Password1')             -> 'is one of the most common passwords'
 *   passwordProblem('correct horse battery') -> null
 */
export function passwordProblem(password: string): string | null {
  if ([...password].length < 8) return 'must be at least 8 characters long';
  if (password.trim() === '') return 'must not be blank';
  const chars = [...password.toLowerCase()];
  if (chars.every((c) => c === chars[0])) return 'must not be one character repeated';
  if (isRun(chars)) return 'must not be a run of consecutive characters';
  const core = password.toLowerCase().replace(/[\d\W_]+$/u, '');
  if (COMMON.has(password.toLowerCase()) || COMMON.has(core)) return 'is one of the most common passwords';
  return null;
}

/** 12345678, abcdefgh, 87654321: each character one more (or one less) than the one before. */
function isRun(chars: string[]): boolean {
  const codes = chars.map((c) => c.codePointAt(0)!);
  const step = codes[1]! - codes[0]!;
  return (step === 1 || step === -1) && codes.every((c, i) => i === 0 || c - codes[i - 1]! === step);
}

const COMMON = new Set([
  'password', 'passw0rd', 'p@ssword', 'p@ssw0rd', 'qwerty', 'qwertyui', 'qwertyuiop', 'asdfghjk', 'asdfghjkl', 'zxcvbnm',
  'iloveyou', 'sunshine', 'princess', 'football', 'baseball', 'welcome', 'welcome1', 'letmein', 'trustno1', 'dragon',
  'monkey', 'master', 'superman', 'batman', 'starwars', 'whatever', 'shadow', 'michael', 'jennifer', 'computer',
  'internet', 'changeme', 'default', 'secret', 'admin', 'administrator', 'login', 'access', 'freedom', 'charlie',
  'password1', 'qwerty123', '1q2w3e4r', '1qaz2wsx', 'zaq12wsx', 'qazwsxedc', 'abc123', 'abcd1234', 'aa123456',
  'million', 'loveyou', 'hello', 'hellohello', 'booking', 'bookings', 'calendar', 'test', 'testing', 'testtest',
  'q1w2e3r4', 'q1w2e3r4t5', 'passpass', 'mypassword', 'yourpassword', 'nopassword', 'temp', 'temppass',
]);
