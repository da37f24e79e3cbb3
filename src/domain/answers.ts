// Booking questions of an event type and the answers a client gives to them.
export type QuestionType = 'text' | 'longText' | 'email' | 'phone' | 'number' | 'boolean' | 'select' | 'multiSelect';

export interface Question {
  id: string;
  label: string;
  type: QuestionType;
  required?: boolean;
  options?: string[];
  maxLength?: number;
}

export type Answers = Record<string, unknown>;
export type AnswerValue = string | number | boolean | string[];

interface Problem { path: string; message: string }

export const DEFAULT_MAX_LENGTH = 1000;
const EMAIL_MAX_LENGTH = 254; // RFC 5321's limit on a path
const PHONE_MAX_LENGTH = 40; // 20 digits and their separators
// Unicode category Cc: C0, DEL and C1. A longText may hold line breaks and tabs.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[0-9 ().-]+$/;

// Code points, not UTF-16 units: an emoji is one character to the person typing it.
const lengthOf = (s: string) => [...s].length;
const isMissing = (v: unknown) =>
  v === undefined || v === null || (typeof v === 'string' && v.trim() === '') || (Array.isArray(v) && v.length === 0);
const oneOf = (options: readonly string[] | undefined) => `must be one of ${(options ?? []).join(', ')}`;

/** The problem with one present answer, or its normalised value. */
function checkAnswer(q: Question, raw: unknown): { message: string } | { value: AnswerValue } {
  switch (q.type) {
    case 'number':
      return typeof raw === 'number' && Number.isFinite(raw) ? { value: raw } : { message: 'must be a number' };
    case 'boolean':
      return typeof raw === 'boolean' ? { value: raw } : { message: 'must be true or false' };
    case 'multiSelect': {
      if (!Array.isArray(raw) || !raw.every((v) => typeof v === 'string')) return { message: 'must be a list of strings' };
      const values = raw.map((v: string) => v.trim());
      if (new Set(values).size !== values.length) return { message: 'must not repeat a value' };
      if (!values.every((v) => q.options?.includes(v))) return { message: `each value ${oneOf(q.options)}` };
      return { value: values };
    }
    default:
      break;
  }
  if (typeof raw !== 'string') return { message: 'must be a string' };
  // A textarea submitted by a form sends CRLF; store the line break once.
  const value = (q.type === 'longText' ? raw.replace(/\r\n/g, '\n') : raw).trim();
  if ((q.type === 'longText' ? CONTROL_BUT_LINES : CONTROL).test(value)) {
    return { message: q.type === 'longText' ? 'must not contain control characters other than line breaks and tabs' : 'must not contain control characters or line breaks' };
  }
  switch (q.type) {
    case 'email':
      if (lengthOf(value) > EMAIL_MAX_LENGTH || !EMAIL.test(value)) return { message: 'must be an email address such as name@example.com' };
      return { value };
    case 'phone': {
      const digits = value.replace(/\D/g, '').length;
      if (value.length > PHONE_MAX_LENGTH || !PHONE.test(value) || digits < 5 || digits > 20) {
        return { message: 'must be a phone number: digits (5 to 20), optionally a leading +, spaces, dashes, dots and parentheses' };
      }
      return { value };
    }
    case 'select':
      return q.options?.includes(value) ? { value } : { message: oneOf(q.options) };
    default: {
      const max = q.maxLength ?? DEFAULT_MAX_LENGTH;
      return lengthOf(value) > max ? { message: `must be at most ${max} characters` } : { value };
    }
  }
}

/**
 * Answers checked against the questions. Problems have paths 'answers/<id>' (the HTTP
 * layer prefixes 'body/'); `value` holds the valid, normalised answers (strings trimmed) and leaves
 * out unanswered optional questions. undefined, null, '' and [] all mean "not answered".
 */
export function validateAnswers(
  questions: readonly Question[], answers: Answers | undefined,
): { errors: Problem[]; value: Record<string, AnswerValue> } {
  const errors: Problem[] = [];
  const entries: [string, AnswerValue][] = [];
  const given: Answers = answers ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    return { errors: [{ path: 'answers', message: 'must be an object keyed by question id' }], value: {} };
  }
  const known = new Set(questions.map((q) => q.id));
  for (const id of Object.keys(given)) {
    if (!known.has(id)) errors.push({ path: `answers/${id}`, message: 'is not a question of this event type' });
  }
  for (const q of questions) {
    // Own properties only: a question id such as 'constructor' must not read Object.prototype.
    const raw = Object.hasOwn(given, q.id) ? given[q.id] : undefined;
    if (isMissing(raw)) {
      if (q.required === true) errors.push({ path: `answers/${q.id}`, message: `is required (${q.label})` });
      continue;
    }
    const result = checkAnswer(q, raw);
    if ('message' in result) errors.push({ path: `answers/${q.id}`, message: result.message });
    else entries.push([q.id, result.value]);
  }
  // fromEntries defines own properties, so even an id '__proto__' stays plain data.
  return { errors, value: Object.fromEntries(entries) };
}

export const QUESTION_TYPES: readonly QuestionType[] = ['text', 'longText', 'email', 'phone', 'number', 'boolean', 'select', 'multiSelect'];
export const MAX_QUESTIONS = 30;
const WITH_OPTIONS: readonly QuestionType[] = ['select', 'multiSelect'];
const WITH_MAX_LENGTH: readonly QuestionType[] = ['text', 'longText'];
const QUESTION_ID = /^[a-z0-9_]+$/;

function optionProblems(at: string, options: unknown): Problem[] {
  if (!Array.isArray(options) || options.length < 1 || options.length > 50) {
    return [{ path: at, message: 'must be a list of 1 to 50 options' }];
  }
  const problems: Problem[] = [];
  options.forEach((o: unknown, k) => {
    // Answers are trimmed before they are compared, so a padded option could never be chosen.
    if (typeof o !== 'string' || o.trim() === '' || o.trim() !== o || CONTROL.test(o)) {
      problems.push({ path: `${at}/${k}`, message: 'must be a non-empty string without surrounding spaces or control characters' });
    } else if (options.indexOf(o) !== k) {
      problems.push({ path: `${at}/${k}`, message: `repeats option ${options.indexOf(o)}` });
    }
  });
  return problems;
}

/**
 * The questions of an event type, checked when the type is written. Paths like
 * 'questions/2/options' (no 'body/' prefix).
 */
export function validateQuestions(questions: readonly Question[]): Problem[] {
  if (questions.length > MAX_QUESTIONS) return [{ path: 'questions', message: `must have at most ${MAX_QUESTIONS} questions` }];
  const problems: Problem[] = [];
  const firstWithId = new Map<string, number>();
  questions.forEach((q, i) => {
    const at = `questions/${i}`;
    if (typeof q.id !== 'string' || !QUESTION_ID.test(q.id)) {
      problems.push({ path: `${at}/id`, message: 'must be lower-case letters, digits and underscores' });
    } else if (firstWithId.has(q.id)) {
      problems.push({ path: `${at}/id`, message: `repeats the id of questions/${firstWithId.get(q.id)}` });
    } else {
      firstWithId.set(q.id, i);
    }
    if (typeof q.label !== 'string' || q.label.trim() === '' || lengthOf(q.label) > 200 || CONTROL.test(q.label)) {
      problems.push({ path: `${at}/label`, message: 'must be 1 to 200 characters, not blank, without control characters' });
    }
    if (!QUESTION_TYPES.includes(q.type)) {
      problems.push({ path: `${at}/type`, message: `must be one of ${QUESTION_TYPES.join(', ')}` });
      return;
    }
    if (q.required !== undefined && typeof q.required !== 'boolean') {
      problems.push({ path: `${at}/required`, message: 'must be true or false' });
    }
    if (WITH_OPTIONS.includes(q.type)) problems.push(...optionProblems(`${at}/options`, q.options));
    else if (q.options !== undefined) problems.push({ path: `${at}/options`, message: 'only select and multiSelect questions have options' });
    if (q.maxLength !== undefined) {
      if (!WITH_MAX_LENGTH.includes(q.type)) {
        problems.push({ path: `${at}/maxLength`, message: 'only text and longText questions have a maxLength' });
      } else if (!Number.isInteger(q.maxLength) || q.maxLength < 1 || q.maxLength > 10_000) {
        problems.push({ path: `${at}/maxLength`, message: 'must be a whole number from 1 to 10000' });
      }
    }
  });
  return problems;
}
