/**
 * The command language of `hookflash phone`: one command per line, parsed without side effects.
 *
 *   call URI | answer | reject [CODE] | hold | resume | hangup | wait EVENT [SECONDS] | quit
 *   transfer URI | transfer --attended CALL | calls | use CALL | dtmf DIGITS | stats
 *
 * CALL is a call's index in the `calls` listing (1, 2, ...) or its id.
 * Blank lines and lines starting with `#` are skipped (null).
 */

/** The events `wait` knows, named as the API's (UserAgent `incoming`, then Call events). */
export const PHONE_EVENTS = [
  'incoming', 'ringing', 'answered', 'held', 'resumed', 'remote-held', 'remote-resumed', 'ended',
  'transfer-progress', 'transferred', 'transfer-failed', 'replaced', 'dtmf',
] as const;
export type PhoneEvent = (typeof PHONE_EVENTS)[number];

/** How long `wait` waits when no SECONDS is given. */
export const DEFAULT_WAIT_SECONDS = 10;

export type PhoneCommand =
  | { readonly name: 'call'; readonly uri: string }
  | { readonly name: 'answer' | 'hold' | 'resume' | 'hangup' | 'calls' | 'stats' }
  | { readonly name: 'dtmf'; readonly digits: string }
  | { readonly name: 'transfer'; readonly uri: string; readonly attended: false }
  | { readonly name: 'transfer'; readonly call: string; readonly attended: true }
  | { readonly name: 'use'; readonly call: string }
  | { readonly name: 'quit' }
  | { readonly name: 'reject'; readonly status: number | undefined }
  | { readonly name: 'wait'; readonly event: PhoneEvent; readonly seconds: number };

/** A line that is not a command; the message names what is wrong. */
export class CommandError extends Error {}

function isPhoneEvent(word: string): word is PhoneEvent {
  return (PHONE_EVENTS as readonly string[]).includes(word);
}

function arity(words: readonly string[], min: number, max: number, usage: string): void {
  const args = words.length - 1;
  if (args < min || args > max) throw new CommandError(`usage: ${usage}`);
}

/** Parses one line; null for a blank line or a comment. Throws CommandError. */
export function parseCommand(line: string): PhoneCommand | null {
  const words = line.trim().split(/\s+/).filter((w) => w !== '');
  const [name] = words;
  if (name === undefined || name.startsWith('#')) return null;
  switch (name) {
    case 'call':
      arity(words, 1, 1, 'call URI');
      return { name, uri: words[1]! };
    case 'answer':
    case 'hold':
    case 'resume':
    case 'hangup':
      arity(words, 0, 0, name);
      return { name };
    case 'quit':
    case 'calls':
    case 'stats':
      arity(words, 0, 0, name);
      return { name };
    case 'transfer': {
      const usage = 'transfer URI | transfer --attended CALL';
      if (words[1] === '--attended') {
        arity(words, 2, 2, usage);
        return { name, call: words[2]!, attended: true };
      }
      arity(words, 1, 1, usage);
      if (words[1]!.startsWith('-')) throw new CommandError(`usage: ${usage}`);
      return { name, uri: words[1]!, attended: false };
    }
    case 'dtmf': {
      arity(words, 1, 1, 'dtmf DIGITS');
      const digits = words[1]!.toUpperCase();
      if (!/^[0-9*#A-D]{1,32}$/.test(digits)) throw new CommandError(`dtmf: DIGITS are 1-32 of 0-9 * # A-D, not ${JSON.stringify(words[1])}`);
      return { name, digits };
    }
    case 'use':
      arity(words, 1, 1, 'use CALL');
      return { name, call: words[1]! };
    case 'reject': {
      arity(words, 0, 1, 'reject [CODE]');
      const text = words[1];
      if (text === undefined) return { name, status: undefined };
      const status = Number(text);
      if (!/^\d{3}$/.test(text) || status < 300 || status > 699) throw new CommandError(`reject: CODE is a status from 300 to 699, not ${JSON.stringify(text)}`);
      return { name, status };
    }
    case 'wait': {
      arity(words, 1, 2, 'wait EVENT [SECONDS]');
      const event = words[1]!;
      if (!isPhoneEvent(event)) throw new CommandError(`wait: unknown event ${JSON.stringify(event)} (one of ${PHONE_EVENTS.join(', ')})`);
      const text = words[2];
      const seconds = text === undefined ? DEFAULT_WAIT_SECONDS : Number(text);
      if (text !== undefined && (!/^\d+(\.\d+)?$/.test(text) || !(seconds > 0))) throw new CommandError(`wait: SECONDS is a positive number, not ${JSON.stringify(text)}`);
      return { name, event, seconds };
    }
    default:
      throw new CommandError(`unknown command ${JSON.stringify(name)} (call URI, answer, reject [CODE], hold, resume, hangup, transfer URI, transfer --attended CALL, calls, use CALL, dtmf DIGITS, stats, wait EVENT [SECONDS], quit)`);
  }
}
