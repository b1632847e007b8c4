/**
 * A new user's sign-up event and its validation. The sign-up workflow validates every event it is
 * given before anything is sent, and the mail and SMS activities check their own addresses with
 * the same rules, so this is pure and deterministic (workflow-safe): no Node built-ins, no I/O.
 */

/** How an opted-in user wants to hear from us. */
export const notificationChannels = ['email', 'sms'] as const;
export type NotificationChannel = (typeof notificationChannels)[number];

export interface SignupEvent {
  /** Names the workflow (`signup/<userId>`): 1-128 letters, digits, '.', '_' or '-'. */
  userId: string;
  email: string;
  /** For the greeting; default: the part of the address before '@'. */
  name?: string;
  /** E.164 (`+` and 7-15 digits); required when `preference` is `sms`. */
  phone?: string;
  /** Whether the user wants notifications at all; default false (nobody is notified unasked). */
  optIn?: boolean;
  /** The notification channel; default `email`. */
  preference?: NotificationChannel;
}

/** An example line of an events file, for messages. */
export const signupEventExample =
  '{"userId": "u-ada", "email": "ada@example.com", "optIn": true, "preference": "email"}';

// Deliberately plain: one '@', no spaces, a dotted domain. Real deliverability is the SMTP server's call.
const emailPattern =
  /^[^\s@<>(),;:"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const phonePattern = /^\+[1-9]\d{6,14}$/;
const userIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Why `value` is not a usable user ID, or undefined when it is. */
export function userIdProblem(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return 'missing "userId"; every event needs one';
  if (typeof value !== 'string' || !userIdPattern.test(value)) {
    return `userId ${JSON.stringify(value)} is not usable; use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit`;
  }
  return undefined;
}

/** Why `value` is not an e-mail address we can send to, or undefined when it is. */
export function emailProblem(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return 'missing "email"; every user needs an address';
  if (typeof value !== 'string' || value.length > 254 || !emailPattern.test(value)) {
    return `email ${JSON.stringify(value)} is not an e-mail address; write it like ada@example.com`;
  }
  return undefined;
}

/** Why `value` is not a phone number an SMS can go to, or undefined when it is. */
export function phoneProblem(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return 'missing "phone"';
  if (typeof value !== 'string' || !phonePattern.test(value)) {
    return `phone ${JSON.stringify(value)} is not a phone number in international form; write it like +4915112345678`;
  }
  return undefined;
}

/** Every problem of an untrusted event (from a JSON-lines file or an API); empty when it is a valid SignupEvent. */
export function signupEventProblems(event: unknown): string[] {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return [`the event must be an object like ${signupEventExample}`];
  }
  const e = event as Record<string, unknown>;
  const problems: string[] = [];
  const add = (problem: string | undefined) => problem && problems.push(problem);
  add(userIdProblem(e.userId));
  add(emailProblem(e.email));
  if (e.name !== undefined && (typeof e.name !== 'string' || e.name.trim() === '')) {
    add('name must be a non-empty string when given');
  }
  if (e.optIn !== undefined && typeof e.optIn !== 'boolean') {
    add(`optIn must be true or false, not ${JSON.stringify(e.optIn)}`);
  }
  const preference = e.preference ?? 'email';
  if (!(notificationChannels as readonly unknown[]).includes(preference)) {
    add(`preference ${JSON.stringify(preference)} is unknown; use one of: ${notificationChannels.join(', ')}`);
  }
  if (preference === 'sms' || e.phone !== undefined) {
    const problem = phoneProblem(e.phone);
    add(problem && (preference === 'sms' ? `${problem} (preference "sms" needs one)` : problem));
  }
  return problems;
}

/** The greeting name: `name`, else the part of the address before '@'. */
export function displayName(event: SignupEvent): string {
  return event.name?.trim() || event.email.split('@')[0];
}
