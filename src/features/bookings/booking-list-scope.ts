/** Whose bookings GET /bookings lists is the access policy's decision (src/features/access/policy.ts). */
export { bookingListScope } from '../access/policy.js';
