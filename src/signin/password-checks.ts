// How many password checks (scrypt) run at once in this process, how many wait, and how many one address may have.

/**
 * Each check is one scrypt of 128 MiB in libuv's pool of four threads, which DNS lookups and file writes share: two
 * run at once, so that two threads stay free for them, and a few wait their turn. Beyond that the sign-in answers
 * "busy" (503 with Retry-After) at once instead of making everyone wait behind a flood; one address may have only
 * a couple of attempts in flight, so that it cannot fill the queue alone. A browser that has signed in with the
 * email before (known-devices.ts) waits in a lane of its own, served first, which others' guesses cannot fill.
 */
const PASSWORD_CHECKS_RUNNING = 2;
const PASSWORD_CHECKS_QUEUED = 8;
const PASSWORD_CHECKS_PER_ADDRESS = 2;
/** The Retry-After of a refusal: about the time a queue's worth of checks takes. */
export const PASSWORD_CHECKS_RETRY_SECONDS = 2;

/** A place taken for one check: wait for `ready`, then check, then `release` (also when not checked at all). */
interface PasswordCheckTurn {
  ready: Promise<void>;
  release(): void;
}

type PasswordCheckEntry =
  | { kind: 'turn'; turn: PasswordCheckTurn }
  | { kind: 'busy' }
  | { kind: 'address-busy' };

export interface PasswordChecks {
  /** Takes a place for a check by `address` (in the known devices' lane if `knownDevice`), or answers why not. */
  enter(address: string, knownDevice?: boolean): PasswordCheckEntry;
}

export function passwordChecks(
  limits: { running: number; queued: number; perAddress: number } = {
    running: PASSWORD_CHECKS_RUNNING,
    queued: PASSWORD_CHECKS_QUEUED,
    perAddress: PASSWORD_CHECKS_PER_ADDRESS,
  },
): PasswordChecks {
  let running = 0;
  const waitingKnown: (() => void)[] = [];
  const waitingOthers: (() => void)[] = [];
  const inFlight = new Map<string, number>();

  const next = () => {
    const start = waitingKnown.shift() ?? waitingOthers.shift();
    if (start) start();
    else running--;
  };
  return {
    enter(address, knownDevice = false) {
      const ofAddress = inFlight.get(address) ?? 0;
      if (ofAddress >= limits.perAddress) return { kind: 'address-busy' };
      const waiting = knownDevice ? waitingKnown : waitingOthers;
      if (running >= limits.running && waiting.length >= limits.queued) return { kind: 'busy' };
      inFlight.set(address, ofAddress + 1);
      let started = false;
      let released = false;
      let startNow: () => void = () => undefined;
      const ready = new Promise<void>((resolve) => {
        startNow = () => {
          started = true;
          resolve();
        };
      });
      if (running < limits.running) {
        running++;
        startNow();
      } else {
        waiting.push(startNow);
      }
      return {
        kind: 'turn',
        turn: {
          ready,
          release() {
            if (released) return;
            released = true;
            const left = (inFlight.get(address) ?? 1) - 1;
            if (left > 0) inFlight.set(address, left);
            else inFlight.delete(address);
            if (started) next();
            else waiting.splice(waiting.indexOf(startNow), 1);
          },
        },
      };
    },
  };
}
