// How tests find things on the page: by label and role, as people do.
export const selectors = {
  username: 'input[name="username"]',
  password: 'input[name="password"]',
  signInButton: 'button[type="submit"]:has-text("Sign in")',
  repositoryRows: 'table.table tbody tr',
  error: '[role="alert"]',
  dockerLoginButton: 'button:has-text("Docker Login")',
  loginCommand: 'code[data-testid="login-command"]',
  copyLoginCommand: 'button[aria-label="Copy docker login command"]',
};
