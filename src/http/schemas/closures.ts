import { Type, type Static } from 'typebox';
import { Id, LocalDate, named, PageQuery } from './common.js';

export const CreateClosureBody = named('CreateClosureRequest', Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, examples: ['New Year\'s Day'] }),
    date: LocalDate,
    recurrence: Type.Optional(Type.Literal('yearly', { description: 'Every year on the same month and day (29 February: 28 February in other years)' })),
    providerIds: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: 1000, description: 'Absent: every provider (admin only)' })),
  },
  { additionalProperties: false, examples: [{ name: 'New Year\'s Day', date: '2027-01-01', recurrence: 'yearly' }] },
));
export type CreateClosureBody = Static<typeof CreateClosureBody>;

export const Closure = named('Closure', Type.Object({
  id: Id,
  name: Type.String(),
  date: LocalDate,
  recurrence: Type.Union([Type.Literal('yearly'), Type.Null()]),
  providerIds: Type.Union([Type.Array(Id), Type.Null()], { description: 'null: every provider' }),
}), 'A closed local date');

export const ClosureListQuery = Type.Object({ ...PageQuery });
