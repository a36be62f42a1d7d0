/** The signed-in user of a request, as `@CurrentUser()` gives it. */
export interface AuthUser {
  id: string;
  email: string;
  roles: string[];
}
