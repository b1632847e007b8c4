/**
 * The texts of the sign-up flow's mails and SMS. Pure functions of the event (and of workflow
 * time for the expiry), so workflow code composes them and a replay produces the same texts.
 */
import { displayName, type SignupEvent } from './signup-event';

export interface Message {
  subject: string;
  text: string;
}

/** `2026-11-28 13:35 UTC`: unambiguous for every reader. */
export function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function verificationMail(event: SignupEvent, code: string, expiresAt: Date): Message {
  return verificationMailFor(event.userId, displayName(event), code, expiresAt);
}

/**
 * The verification mail. The code is in the text only: the subject reaches the sign-up's status,
 * result and history (anyone with Web UI access would read it there) and mail previews.
 */
export function verificationMailFor(userId: string, greeting: string, code: string, expiresAt: Date): Message {
  return {
    subject: 'Your verification code',
    text: [
      `Hello ${greeting},`,
      '',
      `thanks for signing up. Your verification code is: ${code}`,
      '',
      `It is valid until ${formatUtc(expiresAt)}. To verify, run:`,
      `  npm run cli -- verify ${userId} ${code}`,
      '',
      'If you did not sign up, ignore this mail: the sign-up expires on its own.',
    ].join('\n'),
  };
}

export function welcomeMail(event: SignupEvent): Message {
  return {
    subject: `Welcome, ${displayName(event)}!`,
    text: [
      `Hello ${displayName(event)},`,
      '',
      'your address is verified and your account is ready. Welcome aboard!',
    ].join('\n'),
  };
}

export function notificationsOnMail(event: SignupEvent): Message {
  return {
    subject: 'Notifications are on',
    text: [
      `Hello ${displayName(event)},`,
      '',
      'you asked for notifications: from now on you hear about news by e-mail, at this address.',
    ].join('\n'),
  };
}

export function notificationsOnSms(event: SignupEvent): string {
  return `Hi ${displayName(event)}, notifications are on: you hear about news by SMS at this number.`;
}

/** The code in a verification mail's text (what a user reads off the mail), or undefined. */
export function codeInVerificationMail(text: string): string | undefined {
  return /verification code is: (\S+)/.exec(text)?.[1];
}
