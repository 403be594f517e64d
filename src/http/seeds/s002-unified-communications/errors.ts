import { drfErrorHandler } from '../drf-errors.js';

/** Seed 002's errors: Django REST Framework's, as its JWT authentication words them. */
export const errors = drfErrorHandler({
  invalidCredentials: 'Given token not valid for any token type',
});
