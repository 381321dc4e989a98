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
  signInLink: 'nav a[href="/sign-in"]',
  signOutButton: 'nav button:has-text("Sign out")',
  success: '[role="status"].success',
  firstPush: 'code[data-testid="first-push"]',
  // Setup (the one-time first-run page).
  setupUsername: '#username',
  setupPassword: '#password',
  createAdministratorButton: 'button[type="submit"]:has-text("Create administrator")',
  // Accounts (site admins).
  accountName: '#account-name',
  createAccountButton: 'button[type="submit"]:has-text("Create account")',
  accountLink: (account) => `table.account-list td.name a[href="/a/${account}"]`,
  // Members of an account.
  memberUsername: '#member-username',
  memberRole: '#member-role',
  memberPassword: '#member-password',
  saveMemberButton: 'button[type="submit"]:has-text("Save member")',
  memberRow: (username) => `table.members tr:has(td.name:text-is("${username}"))`,
  // Access tokens.
  tokenLabel: '#label',
  tokenAccess: '#access',
  createTokenButton: 'button[type="submit"]:has-text("Create token")',
  newSecret: 'code[data-testid="new-secret"]',
  revokeToken: (label) => `button[aria-label="Revoke token ${label}"]`,
  tokenRow: (label) => `table.tokens tr:has(td.name:text-is("${label}"))`,
};
