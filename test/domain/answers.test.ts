import { describe, expect, it } from 'vitest';
import { validateAnswers, validateQuestions } from '../../src/domain/answers.js';
import type { Question } from '../../src/domain/answers.js';

const QUESTIONS: Question[] = [
  { id: 'name', label: 'Your name', type: 'text', required: true, maxLength: 5 },
  { id: 'notes', label: 'Notes', type: 'longText' },
  { id: 'email', label: 'Email', type: 'email' },
  { id: 'phone', label: 'Phone', type: 'phone' },
  { id: 'age', label: 'Age', type: 'number' },
  { id: 'first_visit', label: 'First visit?', type: 'boolean', required: true },
  { id: 'topic', label: 'Topic', type: 'select', options: ['tax', 'law'] },
  { id: 'extras', label: 'Extras', type: 'multiSelect', options: ['tea', 'cake'] },
];
const valid = { name: ' Ann ', first_visit: false };
const errorsOf = (answers: Record<string, unknown> | undefined, questions = QUESTIONS) => validateAnswers(questions, answers).errors;
const messageFor = (id: string, value: unknown) => {
  const errors = errorsOf({ ...valid, [id]: value });
  expect(errors.map((e) => e.path)).toEqual([`answers/${id}`]);
  return errors[0]!.message;
};
const accepts = (id: string, value: unknown) => expect(errorsOf({ ...valid, [id]: value })).toEqual([]);

describe('validateAnswers', () => {
  it('accepts valid answers and returns them normalised (trimmed), leaving out unanswered ones', () => {
    const result = validateAnswers(QUESTIONS, {
      ...valid, notes: ' line 1\r\nline\t2 ', email: 'ann@example.com', phone: '+1 (555) 123-4567', age: 0,
      topic: 'tax ', extras: [' cake', 'tea'], first_visit: true,
    });
    expect(result.errors).toEqual([]);
    expect(result.value).toEqual({
      name: 'Ann', notes: 'line 1\nline\t2', email: 'ann@example.com', phone: '+1 (555) 123-4567', age: 0,
      first_visit: true, topic: 'tax', extras: ['cake', 'tea'],
    });
  });
  it('requires required answers: undefined, null, blank and [] are missing; false is an answer', () => {
    expect(errorsOf(undefined).map((e) => e.path)).toEqual(['answers/name', 'answers/first_visit']);
    for (const missing of [null, '', '   ', []]) expect(errorsOf({ name: missing, first_visit: false }).map((e) => e.path)).toEqual(['answers/name']);
    expect(validateAnswers(QUESTIONS, { ...valid, topic: null, extras: [] }).value).toEqual({ name: 'Ann', first_visit: false });
  });
  it('refuses unknown ids, also ones named like Object.prototype members', () => {
    expect(errorsOf({ ...valid, colour: 'red' })).toEqual([{ path: 'answers/colour', message: 'is not a question of this event type' }]);
    expect(errorsOf(JSON.parse('{"name":"Ann","first_visit":true,"__proto__":1}')).map((e) => e.path)).toEqual(['answers/__proto__']);
    const proto: Question[] = [{ id: 'constructor', label: 'C', type: 'text', required: true }];
    expect(errorsOf({}, proto).map((e) => e.path)).toEqual(['answers/constructor']);
  });
  it('checks types', () => {
    expect(messageFor('name', 5)).toBe('must be a string');
    expect(messageFor('age', '5')).toBe('must be a number');
    expect(messageFor('age', Infinity)).toBe('must be a number');
    expect(messageFor('first_visit', 'yes')).toBe('must be true or false');
    expect(messageFor('extras', 'tea')).toBe('must be a list of strings');
    expect(messageFor('extras', ['tea', 1])).toBe('must be a list of strings');
  });
  it('checks emails', () => {
    for (const ok of ['a@b.co', 'first.last+tag@sub.example.org']) accepts('email', ok);
    for (const bad of ['ann', 'ann@example', '@example.com', 'ann@@example.com', 'a b@example.com', 'ann@.', `${'a'.repeat(250)}@b.co`]) {
      expect(messageFor('email', bad)).toMatch(/email address/);
    }
  });
  it('checks phone numbers: optional +, digits and separators, 5 to 20 digits', () => {
    for (const ok of ['12345', '+49 30 1234-5678', '(555) 123.4567', '1'.repeat(20)]) accepts('phone', ok);
    for (const bad of ['1234', '1'.repeat(21), '555-CALL-NOW', '++49 30 123456', '49+30123456']) expect(messageFor('phone', bad)).toMatch(/phone number/);
  });
  it('checks select values, naming the allowed ones', () => {
    expect(messageFor('topic', 'art')).toBe('must be one of tax, law');
    expect(messageFor('extras', ['tea', 'wine'])).toBe('each value must be one of tea, cake');
    expect(messageFor('extras', ['tea', 'tea'])).toBe('must not repeat a value');
  });
  it('checks lengths in characters: maxLength, else 1000', () => {
    accepts('name', '😀😀😀😀😀'); // five characters, ten UTF-16 units
    expect(messageFor('name', 'Annabel')).toBe('must be at most 5 characters');
    accepts('notes', 'x'.repeat(1000));
    expect(messageFor('notes', 'x'.repeat(1001))).toBe('must be at most 1000 characters');
  });
  it('refuses control characters; a longText may hold line breaks and tabs', () => {
    expect(messageFor('name', 'A\nB')).toMatch(/control characters/);
    expect(messageFor('name', 'A\tB')).toMatch(/control characters/);
    expect(messageFor('notes', 'A\u0000B')).toMatch(/control characters/);
    expect(messageFor('notes', 'A\u0085B')).toMatch(/control characters/); // C1 NEL
    expect(messageFor('notes', 'A\rB')).toMatch(/control characters/); // a lone CR
    accepts('notes', 'A\n\tB');
  });
});

describe('validateQuestions', () => {
  const q = (extra: Partial<Question>): Question => ({ id: 'q', label: 'Question', type: 'text', ...extra });
  const pathsOf = (questions: Question[]) => validateQuestions(questions).map((p) => p.path);
  it('accepts a valid list', () => {
    expect(validateQuestions(QUESTIONS)).toEqual([]);
    expect(validateQuestions([])).toEqual([]);
  });
  it('checks ids: pattern and uniqueness', () => {
    expect(pathsOf([q({ id: 'Name' }), q({ id: 'a-b' }), q({ id: '' })])).toEqual(['questions/0/id', 'questions/1/id', 'questions/2/id']);
    const dup = validateQuestions([q({ id: 'a' }), q({ id: 'b' }), q({ id: 'a' })]);
    expect(dup).toEqual([{ path: 'questions/2/id', message: 'repeats the id of questions/0' }]);
  });
  it('checks labels and types', () => {
    expect(pathsOf([q({ label: '' }), q({ id: 'b', label: '  ' }), q({ id: 'c', label: 'x'.repeat(201) }), q({ id: 'd', label: 'x'.repeat(200) })]))
      .toEqual(['questions/0/label', 'questions/1/label', 'questions/2/label']);
    expect(pathsOf([q({ type: 'date' as never })])).toEqual(['questions/0/type']);
  });
  it('requires options exactly for select types: 1 to 50 non-empty, unique strings', () => {
    expect(pathsOf([q({ type: 'select' })])).toEqual(['questions/0/options']);
    expect(pathsOf([q({ type: 'multiSelect', options: [] })])).toEqual(['questions/0/options']);
    expect(pathsOf([q({ type: 'select', options: Array.from({ length: 51 }, (_, i) => `o${i}`) })])).toEqual(['questions/0/options']);
    expect(pathsOf([q({ type: 'select', options: Array.from({ length: 50 }, (_, i) => `o${i}`) })])).toEqual([]);
    expect(pathsOf([q({ type: 'select', options: ['a', '', 'a', ' b'] })]))
      .toEqual(['questions/0/options/1', 'questions/0/options/2', 'questions/0/options/3']);
    expect(pathsOf([q({ type: 'text', options: ['a'] })])).toEqual(['questions/0/options']);
  });
  it('allows maxLength 1..10000 on text and longText only', () => {
    expect(pathsOf([q({ maxLength: 10_000 }), q({ id: 'b', type: 'longText', maxLength: 1 })])).toEqual([]);
    expect(pathsOf([q({ maxLength: 0 }), q({ id: 'b', maxLength: 10_001 }), q({ id: 'c', maxLength: 1.5 }), q({ id: 'd', type: 'email', maxLength: 10 })]))
      .toEqual(['questions/0/maxLength', 'questions/1/maxLength', 'questions/2/maxLength', 'questions/3/maxLength']);
  });
  it('allows up to 30 questions', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => q({ id: `q${i}` }));
    expect(validateQuestions(many(30))).toEqual([]);
    expect(pathsOf(many(31))).toEqual(['questions']);
  });
});
