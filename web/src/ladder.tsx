/**
 * A ladder diagram in SVG, drawn like the seed's figures: a column (a box and a lifeline) per
 * element, one arrow per message with its label above (INVITE, 180, 200, ACK, REFER, 202, NOTIFY,
 * BYE), F-numbers and time offsets on the left. Re-INVITEs that hold or resume are marked; each
 * call of a transfer has its own colour. Clicking an arrow selects the message.
 */
import type { Ladder as LadderData, LadderArrow } from './types';

const COL = 190;
const LEFT = 110;
const TOP = 14;
const ROW = 30;

/** One colour per call of the group, in order. */
export const CALL_COLOURS = ['#2563eb', '#c2410c', '#15803d', '#7c3aed', '#be185d', '#0e7490'];

export interface LadderProps {
  ladder: LadderData;
  /** Call-ID → colour index. */
  colourOf: (callId: string) => number;
  selected: number | undefined;
  onSelect: (arrow: LadderArrow) => void;
}

function shortName(name: string): string {
  return name.length > 24 ? `${name.slice(0, 23)}…` : name;
}

export function LadderSvg({ ladder, colourOf, selected, onSelect }: LadderProps) {
  const { columns, arrows } = ladder;
  const width = LEFT + Math.max(1, columns.length) * COL;
  const height = TOP + arrows.length * ROW + 30;
  const x = (i: number): number => LEFT + i * COL + COL / 2;
  const t0 = arrows[0]?.time ?? 0;
  const head = (
    <svg class="ladder-head" width={width} height={40} viewBox={`0 0 ${width} 40`} aria-hidden="true">
      {columns.map((name, i) => (
        <g key={name}>
          <rect x={x(i) - COL / 2 + 12} y={8} width={COL - 24} height={28} rx={5} class="column-box" />
          <text x={x(i)} y={27} text-anchor="middle" class="column-name">{shortName(name)}</text>
        </g>
      ))}
    </svg>
  );
  return (
    <div class="ladder-wrap">
      <div class="ladder-sticky">{head}</div>
      <svg
      data-testid="ladder"
      class="ladder"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`Ladder diagram: ${arrows.length} messages between ${columns.join(', ')}`}
    >
      <defs>
        {CALL_COLOURS.map((c, i) => (
          <marker id={`head-${i}`} key={c} viewBox="0 0 10 10" refX="10" refY="5" markerWidth="10" markerHeight="10" markerUnits="userSpaceOnUse" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill={c} />
          </marker>
        ))}
      </defs>
      {columns.map((name, i) => (
        <g class="column" key={name} data-testid="column" data-name={name}>
          <title>{name}</title>
          <line x1={x(i)} y1={0} x2={x(i)} y2={height - 8} class="lifeline" />
        </g>
      ))}
      {arrows.map((a, k) => {
        const y = TOP + k * ROW + 18;
        const colourIndex = colourOf(a.callId) % CALL_COLOURS.length;
        const colour = CALL_COLOURS[colourIndex];
        const label = a.note === undefined ? a.label : `${a.label} (${a.note})`;
        const title = `F${a.n} ${a.label}${a.detail ? ` ${a.detail}` : ''} · ${columns[a.from]} → ${columns[a.to]} · ${a.protocol} · Call-ID ${a.callId}`;
        const isSelected = selected === a.seq;
        const self = a.from === a.to;
        const x1 = x(a.from);
        const x2 = x(a.to);
        const mid = self ? x1 + 40 : (x1 + x2) / 2;
        return (
          <g
            key={a.seq}
            class={`arrow${isSelected ? ' selected' : ''}${a.note ? ` note-${a.note}` : ''}`}
            data-testid="arrow"
            data-label={a.label}
            data-n={a.n}
            data-call={a.callId}
            data-note={a.note ?? ''}
            tabIndex={0}
            onClick={() => onSelect(a)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' || e.key === ' ') onSelect(a);
            }}
          >
            <title>{title}</title>
            <rect x={0} y={y - ROW + 8} width={width} height={ROW} class="hit" />
            <text x={8} y={y + 4} class="fnum">F{a.n}</text>
            <text x={40} y={y + 4} class="time">+{((a.time - t0) / 1000).toFixed(3)}s</text>
            {self ? (
              <path d={`M ${x1} ${y - 6} h 30 v 12 h -28`} fill="none" stroke={colour} stroke-width={1.6} marker-end={`url(#head-${colourIndex})`} />
            ) : (
              <line x1={x1} y1={y} x2={x2 + (x2 > x1 ? -2 : 2)} y2={y} stroke={colour} stroke-width={isSelected ? 2.6 : 1.6} marker-end={`url(#head-${colourIndex})`} />
            )}
            <text x={mid} y={y - 5} text-anchor="middle" class="label" fill={colour}>{label}</text>
          </g>
        );
      })}
    </svg>
    </div>
  );
}
