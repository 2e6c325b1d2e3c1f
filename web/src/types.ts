/**
 * What the dashboard's API answers (src/app/dashboard-http.ts, src/app/capture-store.ts,
 * src/app/capture-ladder.ts), as the browser sees it.
 */
export type CallState = 'calling' | 'ringing' | 'talking' | 'held' | 'transferring' | 'replaced' | 'ended';

export interface TransferInfo {
  referTo: string;
  referredBy?: string;
  replaces?: string;
  result?: number;
}

export interface CallSummary {
  callId: string;
  caller: string;
  callee: string;
  state: CallState;
  heldBy?: 'caller' | 'callee';
  outcome?: string;
  startedAt: number;
  answeredAt?: number;
  endedAt?: number;
  updatedAt: number;
  messages: number;
  related: string[];
  transfer?: TransferInfo;
  replacedBy?: string;
  replaces?: string;
}

export interface LadderArrow {
  n: number;
  seq: number;
  time: number;
  from: number;
  to: number;
  label: string;
  detail: string;
  note?: 'hold' | 'resume';
  method: string;
  callId: string;
  protocol: string;
  text: string;
}

export interface Ladder {
  columns: string[];
  arrows: LadderArrow[];
}

export interface CallDetail {
  call: CallSummary;
  group: CallSummary[];
  ladder: Ladder;
}

export interface Registration {
  aor: string;
  contact: string;
  expiresIn: number;
  userAgent?: string;
  registrar?: string;
  source?: string;
}
