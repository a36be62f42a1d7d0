/** What nodemailer puts on a failed send. */
interface SmtpError {
  code?: string;
  responseCode?: number;
  message?: string;
}

/**
 * True when the SMTP server refused this message for good (5xx: bad recipient, message
 * rejected) or nodemailer could not even build it: sending again cannot help. Everything else
 * — refused connections, timeouts, dropped sockets, 4xx "try later" — is an outage to wait out.
 */
export function isPermanentSmtpFailure(error: unknown): boolean {
  const e = (error ?? {}) as SmtpError;
  if (typeof e.responseCode === 'number') return e.responseCode >= 500 && e.responseCode < 600;
  return e.code === 'EENVELOPE' || e.code === 'EMESSAGE';
}
