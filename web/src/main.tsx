/**
 * The hookflash dashboard: registrations, live calls with their state, the history of ended
 * calls, search by user or Call-ID, and per call (with the calls of its transfer) a ladder diagram
 * whose arrows open the whole message. Live by server-sent events (/api/events).
 */
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { LadderSvg, CALL_COLOURS } from './ladder';
import type { CallDetail, CallSummary, LadderArrow, Registration } from './types';

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return (await res.json()) as T;
}

function user(uri: string): string {
  return uri.replace(/^sips?:/, '');
}

function clock(ms: number | undefined): string {
  if (ms === undefined) return '';
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

function stateText(c: CallSummary): string {
  if (c.state === 'held') return `held by ${c.heldBy === 'caller' ? user(c.caller) : user(c.callee)}`;
  if (c.state === 'ended') return c.outcome === undefined ? 'ended' : `ended: ${c.outcome}`;
  return c.state;
}

function selectedFromHash(): string | undefined {
  const m = /^#call=(.+)$/.exec(location.hash);
  return m === null ? undefined : decodeURIComponent(m[1]!);
}

function CallRow({ call, selected, onOpen }: { call: CallSummary; selected: boolean; onOpen: (id: string) => void }) {
  return (
    <li
      class={`call${selected ? ' selected' : ''}`}
      data-testid="call-row"
      data-callid={call.callId}
      data-state={call.state}
      data-transfer={call.transfer !== undefined || call.related.length > 0 ? 'yes' : 'no'}
    >
      <button type="button" onClick={() => onOpen(call.callId)}>
        <span class={`state state-${call.state}`}>{stateText(call)}</span>
        <span class="parties">{user(call.caller)} → {user(call.callee)}</span>
        <span class="meta">
          {clock(call.startedAt)} · {call.messages} msgs
          {call.transfer !== undefined ? ' · REFER' : ''}
          {call.replaces !== undefined ? ' · Replaces' : ''}
          {call.related.length > 0 ? ` · ${call.related.length} linked` : ''}
        </span>
        <span class="callid">{call.callId}</span>
      </button>
    </li>
  );
}

function Registrations({ list }: { list: Registration[] }) {
  return (
    <section class="panel" aria-labelledby="regs">
      <h2 id="regs">Registrations <span class="count">{list.length}</span></h2>
      {list.length === 0 ? <p class="empty">none</p> : (
        <table data-testid="registrations">
          <thead><tr><th>AOR</th><th>Contact</th><th>Expires</th></tr></thead>
          <tbody>
            {list.map((r) => (
              <tr key={`${r.aor} ${r.contact}`}>
                <td>{r.aor}{r.registrar ? <span class="sub">{r.registrar}</span> : null}</td>
                <td>{r.contact}{r.source ? <span class="sub">{r.source}</span> : null}</td>
                <td>{r.expiresIn}s</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function MessagePanel({ arrow, columns }: { arrow: LadderArrow | undefined; columns: string[] }) {
  if (arrow === undefined) return <p class="hint">Click an arrow to see the whole message.</p>;
  return (
    <section class="message" aria-label="message">
      <h3>
        F{arrow.n} {arrow.label}{arrow.note ? ` (${arrow.note})` : ''} · {columns[arrow.from]} → {columns[arrow.to]} · {arrow.protocol}
      </h3>
      <pre data-testid="message-text">{arrow.text}</pre>
    </section>
  );
}

function Detail({ detail, onOpen }: { detail: CallDetail; onOpen: (id: string) => void }) {
  const [selected, setSelected] = useState<LadderArrow | undefined>(undefined);
  const ids = detail.group.map((c) => c.callId);
  const colourOf = useCallback((id: string) => Math.max(0, ids.indexOf(id)), [ids.join(' ')]);
  useEffect(() => {
    // The same message stays selected across live updates; another call's view starts fresh.
    setSelected((s) => (s === undefined ? undefined : detail.ladder.arrows.find((a) => a.seq === s.seq)));
  }, [detail]);
  return (
    <section class="detail" data-testid="call-detail" data-callid={detail.call.callId}>
      <header>
        <h2>{detail.group.length > 1 ? `Transfer: ${detail.group.length} calls` : 'Call'}</h2>
        <ul class="group">
          {detail.group.map((c, i) => (
            <li key={c.callId} style={{ borderColor: CALL_COLOURS[i % CALL_COLOURS.length] }}>
              <button type="button" class="linklike" onClick={() => onOpen(c.callId)}>
                <span class={`state state-${c.state}`}>{stateText(c)}</span> {user(c.caller)} → {user(c.callee)}
              </button>
              <span class="callid">{c.callId}</span>
              {c.transfer ? <span class="sub">REFER to {c.transfer.referTo}{c.transfer.referredBy ? `, by ${c.transfer.referredBy}` : ''}</span> : null}
              <a class="pcap" href={`/api/calls/${encodeURIComponent(c.callId)}/pcap`} download>pcap</a>
            </li>
          ))}
        </ul>
        {detail.group.length > 1 ? (
          <a class="pcap" href={`/api/calls/${encodeURIComponent(detail.call.callId)}/pcap?related=1`} download>pcap of all {detail.group.length} calls</a>
        ) : null}
      </header>
      <LadderSvg ladder={detail.ladder} colourOf={colourOf} selected={selected?.seq} onSelect={setSelected} />
      <MessagePanel arrow={selected} columns={detail.ladder.columns} />
    </section>
  );
}

function App() {
  const [calls, setCalls] = useState<CallSummary[]>([]);
  const [regs, setRegs] = useState<Registration[]>([]);
  const [query, setQuery] = useState('');
  const [openId, setOpenId] = useState<string | undefined>(selectedFromHash());
  const [detail, setDetail] = useState<CallDetail | undefined>(undefined);
  const [live, setLive] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  const [error, setError] = useState<string | undefined>(undefined);
  const openRef = useRef<string | undefined>(openId);
  const groupRef = useRef<Set<string>>(new Set());
  const refetch = useRef<number | undefined>(undefined);

  const loadDetail = useCallback((id: string) => {
    getJson<CallDetail>(`/api/calls/${encodeURIComponent(id)}`).then((d) => {
      if (openRef.current !== id) return;
      groupRef.current = new Set(d.group.map((c) => c.callId));
      setDetail(d);
      setError(undefined);
    }, (e: unknown) => setError(String(e)));
  }, []);

  const open = useCallback((id: string) => {
    openRef.current = id;
    setOpenId(id);
    history.replaceState(null, '', `#call=${encodeURIComponent(id)}`);
    loadDetail(id);
  }, [loadDetail]);

  useEffect(() => {
    getJson<{ calls: CallSummary[] }>('/api/calls').then((r) => setCalls(r.calls), (e: unknown) => setError(String(e)));
    if (openId !== undefined) loadDetail(openId);
    const loadRegs = (): void => {
      getJson<{ registrations: Registration[] }>('/api/registrations').then((r) => setRegs(r.registrations), () => undefined);
    };
    loadRegs();
    const regTimer = setInterval(loadRegs, 5000);
    const events = new EventSource('/api/events');
    events.addEventListener('open', () => setLive('live'));
    events.addEventListener('error', () => setLive('reconnecting'));
    events.addEventListener('call', (e) => {
      const call = JSON.parse((e as MessageEvent<string>).data) as CallSummary;
      setCalls((list) => {
        const i = list.findIndex((c) => c.callId === call.callId);
        if (i < 0) return [call, ...list];
        const next = list.slice();
        next[i] = call;
        return next;
      });
      const current = openRef.current;
      if (current !== undefined && (groupRef.current.has(call.callId) || call.related.some((r) => groupRef.current.has(r)))) {
        // Several messages come at once: one fetch for the burst.
        if (refetch.current === undefined) {
          refetch.current = window.setTimeout(() => {
            refetch.current = undefined;
            if (openRef.current !== undefined) loadDetail(openRef.current);
          }, 150);
        }
      }
    });
    return () => {
      events.close();
      clearInterval(regTimer);
    };
  }, []);

  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    if (q === '') return calls;
    return calls.filter((c) => c.callId.toLowerCase().includes(q) || c.caller.toLowerCase().includes(q) || c.callee.toLowerCase().includes(q));
  }, [calls, query]);
  const liveCalls = shown.filter((c) => c.state !== 'ended');
  const ended = shown.filter((c) => c.state === 'ended');

  return (
    <div class="app">
      <header class="top">
        <h1>hookflash</h1>
        <span class={`live live-${live}`} data-testid="live">{live}</span>
        <input
          type="search"
          placeholder="Search user or Call-ID"
          aria-label="Search user or Call-ID"
          data-testid="search"
          value={query}
          onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
        />
        <a class="pcap" href="/api/pcap" download>pcap of everything</a>
      </header>
      {error ? <p class="error" role="alert">{error}</p> : null}
      <main>
        <aside>
          <Registrations list={regs} />
          <section class="panel" aria-labelledby="live-calls">
            <h2 id="live-calls">Live calls <span class="count">{liveCalls.length}</span></h2>
            {liveCalls.length === 0 ? <p class="empty">none</p> : (
              <ul class="calls" data-testid="live-calls">
                {liveCalls.map((c) => <CallRow key={c.callId} call={c} selected={c.callId === openId} onOpen={open} />)}
              </ul>
            )}
          </section>
          <section class="panel" aria-labelledby="ended-calls">
            <h2 id="ended-calls">Ended calls <span class="count">{ended.length}</span></h2>
            {ended.length === 0 ? <p class="empty">none</p> : (
              <ul class="calls" data-testid="ended-calls">
                {ended.map((c) => <CallRow key={c.callId} call={c} selected={c.callId === openId} onOpen={open} />)}
              </ul>
            )}
          </section>
        </aside>
        {detail === undefined ? <p class="hint main-hint">Choose a call to see its ladder diagram.</p> : <Detail detail={detail} onOpen={open} />}
      </main>
    </div>
  );
}

const root = document.getElementById('app')!;
// The page's "Loading…" goes: render() would keep it beside the app.
root.textContent = '';
render(<App />, root);
