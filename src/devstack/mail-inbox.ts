/**
 * Reading the mail catcher's inbox through its REST API (maildev: `GET /email`), as a person
 * would look at the web UI: who got which mail. The demo and the tests read delivered mail here.
 */

export interface CaughtMail {
  /** Without angle brackets, as maildev reports it. */
  messageId: string;
  subject: string;
  /** Recipient addresses. */
  to: string[];
  from: string[];
  text: string;
  date: string;
}

interface MaildevAddress {
  address: string;
}

interface MaildevMail {
  messageId?: string;
  subject?: string;
  to?: MaildevAddress[];
  from?: MaildevAddress[];
  text?: string;
  date?: string;
}

/** Every mail the catcher at `webUrl` holds, oldest first. */
export async function listCaughtMails(webUrl: string): Promise<CaughtMail[]> {
  let response: Response;
  try {
    response = await fetch(`${webUrl}/email`, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new Error(
      `The mail catcher at ${webUrl} does not answer (${error instanceof Error ? error.message : error}); is the stack of npm start up? (BATCH_MAIL_UI_URL)`,
    );
  }
  if (!response.ok) throw new Error(`The mail catcher at ${webUrl} answered HTTP ${response.status} to GET /email.`);
  const mails = (await response.json()) as MaildevMail[];
  return mails.map((m) => ({
    messageId: m.messageId ?? '',
    subject: m.subject ?? '',
    to: (m.to ?? []).map((a) => a.address),
    from: (m.from ?? []).map((a) => a.address),
    text: m.text ?? '',
    date: m.date ?? '',
  }));
}

/** A Message-ID as the catcher reports it: `<x@y>` (as sent) → `x@y`. */
export const bareMessageId = (messageId: string) => messageId.replace(/^<|>$/g, '');

/** The caught mail with this Message-ID (with or without angle brackets), if any. */
export async function findCaughtMail(webUrl: string, messageId: string): Promise<CaughtMail | undefined> {
  return (await listCaughtMails(webUrl)).find((m) => m.messageId === bareMessageId(messageId));
}
