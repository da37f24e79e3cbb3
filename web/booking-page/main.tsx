/**
 * The booking page (/book/{slug}) and the manage page (/book/manage/{id}?token=…),
 * built only on the client SDK (src/client). Preact, bundled by esbuild
 * (scripts/build-page.ts) and served by the engine itself.
 */
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, createClient, type Booking, type EventType } from '../../src/client/index.js';
import {
  addMonths, browserZone, icsOf, localDate, localTime, longDate, monthGrid, monthName, monthOf, zones,
} from './time.js';

type Slot = { start: string; end: string };
type Question = EventType['questions'][number];

const origin = window.location.origin;
const anon = createClient({ baseUrl: origin });

const messageOf = (e: unknown) => (e instanceof ApiError ? e.problem.detail : 'Something went wrong; please try again.');

function useTitle(title: string) {
  useEffect(() => { document.title = title; }, [title]);
}

/** The free slots of a month in a zone, refreshed when the stream reports a change to a host. */
function useMonthSlots(type: EventType | null, duration: number, month: string, zone: string) {
  const [slots, setSlots] = useState<Slot[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (!type) return;
    let live = true;
    const last = addMonths(month, 1);
    const to = new Date(Date.parse(`${last}-01T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    anon.slots({ eventTypeId: type.id, from: `${month}-01`, to, timeZone: zone, duration })
      .then((r) => { if (live) { setSlots(r.slots); setError(null); } })
      .catch((e) => { if (live) setError(messageOf(e)); });
    return () => { live = false; };
  }, [type?.id, duration, month, zone, version]);
  useEffect(() => {
    if (!type) return;
    const controller = new AbortController();
    const stream = anon.stream(type.hosts.map((h) => h.providerId), controller.signal);
    (async () => {
      try {
        for await (const _change of stream) setVersion((v) => v + 1);
      } catch { /* the page still works without live updates */ }
    })();
    return () => controller.abort();
  }, [type?.id]);
  return { slots, error, refresh: () => setVersion((v) => v + 1) };
}

function DurationChoice({ type, duration, onChange }: { type: EventType; duration: number; onChange: (d: number) => void }) {
  if (type.durations.length < 2) return <p class="meta">{type.durations[0]} minutes</p>;
  return (
    <fieldset class="durations">
      <legend>Duration</legend>
      {type.durations.map((d) => (
        <label key={d} class={d === duration ? 'chip chosen' : 'chip'}>
          <input type="radio" name="duration" value={d} checked={d === duration} onChange={() => onChange(d)} /> {d} min
        </label>
      ))}
    </fieldset>
  );
}

function ZoneChoice({ zone, onChange }: { zone: string; onChange: (z: string) => void }) {
  const all = useMemo(() => { const z = zones(); return z.includes(zone) ? z : [zone, ...z]; }, []);
  return (
    <div class="zone">
      <label for="zone">Time zone</label>
      <select id="zone" value={zone} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {all.map((z) => <option key={z} value={z}>{z}</option>)}
      </select>
    </div>
  );
}

/** The month with its free days marked, and the free times of the chosen day. */
function Picker(props: {
  type: EventType; duration: number; zone: string; date: string; onDate: (d: string) => void;
  chosen: Slot | null; onPick: (s: Slot) => void; slots: Slot[] | null; error: string | null;
}) {
  const { zone, date, slots } = props;
  const month = monthOf(date);
  const byDay = useMemo(() => {
    const m = new Map<string, Slot[]>();
    for (const s of slots ?? []) {
      const d = localDate(s.start, zone);
      m.set(d, [...(m.get(d) ?? []), s]);
    }
    return m;
  }, [slots, zone]);
  const today = localDate(Date.now(), zone);
  const times = byDay.get(date) ?? [];
  return (
    <div class="picker">
      <section class="calendar" aria-label="Choose a day">
        <div class="month-nav">
          <button type="button" onClick={() => props.onDate(`${addMonths(month, -1)}-01`)} disabled={month <= monthOf(today)} aria-label="Previous month">‹</button>
          <h2 aria-live="polite">{monthName(month)}</h2>
          <button type="button" onClick={() => props.onDate(`${addMonths(month, 1)}-01`)} aria-label="Next month">›</button>
        </div>
        <div class="grid" role="group" aria-label={monthName(month)}>
          {['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'].map((d) => <span key={d} class="dow" aria-hidden="true">{d}</span>)}
          {monthGrid(month).map((d, i) => d === null ? <span key={`b${i}`} /> : (
            <button
              key={d} type="button" class={`day${byDay.has(d) ? ' free' : ''}${d === date ? ' chosen' : ''}`}
              aria-pressed={d === date} aria-label={`${longDate(d)}${byDay.has(d) ? ', free times' : ', no free times'}`}
              onClick={() => props.onDate(d)}
            >{Number(d.slice(8))}</button>
          ))}
        </div>
      </section>
      <section class="times" aria-label="Free times">
        <h2>{longDate(date)}</h2>
        {props.error && <p role="alert" class="error">{props.error}</p>}
        {slots === null ? <p>Loading free times…</p> : times.length === 0 ? <p>No free times on this day.</p> : (
          <ul class="time-list">
            {times.map((s) => {
              const hhmm = localTime(s.start, zone);
              return (
                <li key={s.start}>
                  <button type="button" class={props.chosen?.start === s.start ? 'time chosen' : 'time'} aria-pressed={props.chosen?.start === s.start}
                    aria-label={`${hhmm} on ${longDate(date)}`} onClick={() => props.onPick(s)}>{hhmm}</button>
                </li>
              );
            })}
          </ul>
        )}
      </section>
    </div>
  );
}

function nextFree(slots: Slot[] | null, after: string, n = 3): Slot[] {
  return (slots ?? []).filter((s) => s.start > after).slice(0, n);
}

function initialDate(zone: string): string {
  const asked = new URLSearchParams(window.location.search).get('date');
  return asked && /^\d{4}-\d{2}-\d{2}$/.test(asked) ? asked : localDate(Date.now(), zone);
}

function QuestionField({ q, value, error, onChange }: { q: Question; value: unknown; error?: string; onChange: (v: unknown) => void }) {
  const id = `q-${q.id}`;
  const described = error ? `${id}-error` : undefined;
  const common = { id, 'aria-invalid': error ? true : undefined, 'aria-describedby': described, required: q.required };
  let input;
  switch (q.type) {
    case 'longText':
      input = <textarea {...common} maxLength={q.maxLength} value={String(value ?? '')} onInput={(e) => onChange((e.target as HTMLTextAreaElement).value)} />;
      break;
    case 'boolean':
      return (
        <div class="field check">
          <label><input type="checkbox" id={id} checked={value === true} onChange={(e) => onChange((e.target as HTMLInputElement).checked)} /> {q.label}</label>
          {error && <p id={described} class="field-error">{error}</p>}
        </div>
      );
    case 'select':
      input = (
        <select {...common} value={String(value ?? '')} onChange={(e) => onChange((e.target as HTMLSelectElement).value || undefined)}>
          <option value="">Choose…</option>
          {(q.options ?? []).map((o) => <option key={o} value={o}>{o}</option>)}
        </select>
      );
      break;
    case 'multiSelect':
      return (
        <fieldset class="field">
          <legend>{q.label}{q.required && <span aria-hidden="true"> *</span>}</legend>
          {(q.options ?? []).map((o) => {
            const list = Array.isArray(value) ? (value as string[]) : [];
            return (
              <label key={o} class="chip"><input type="checkbox" checked={list.includes(o)}
                onChange={(e) => onChange((e.target as HTMLInputElement).checked ? [...list, o] : list.filter((x) => x !== o))} /> {o}</label>
            );
          })}
          {error && <p id={described} class="field-error">{error}</p>}
        </fieldset>
      );
    default: {
      const kind = q.type === 'email' ? 'email' : q.type === 'phone' ? 'tel' : q.type === 'number' ? 'number' : 'text';
      input = <input {...common} type={kind as 'text'} maxLength={q.maxLength} value={value === undefined ? '' : String(value)}
        onInput={(e) => { const v = (e.target as HTMLInputElement).value; onChange(v === '' ? undefined : q.type === 'number' ? Number(v) : v); }} />;
    }
  }
  return (
    <div class="field">
      <label for={id}>{q.label}{q.required && <span aria-hidden="true"> *</span>}</label>
      {input}
      {error && <p id={described} class="field-error">{error}</p>}
    </div>
  );
}

function localCheck(questions: Question[], answers: Record<string, unknown>, name: string, email: string): Record<string, string> {
  const errors: Record<string, string> = {};
  if (name.trim() === '') errors['guest/name'] = 'Please enter your name.';
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) errors['guest/email'] = 'Please enter an email address, like ada@example.com.';
  for (const q of questions) {
    const v = answers[q.id];
    const empty = v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
    if (q.required && empty && q.type !== 'boolean') errors[`answers/${q.id}`] = `Please answer “${q.label}”.`;
    if (!empty && q.type === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(String(v))) errors[`answers/${q.id}`] = 'Please enter an email address.';
  }
  return errors;
}

function Confirmation({ type, booking, token, zone }: { type: EventType; booking: Booking; token: string; zone: string }) {
  const manage = `/book/manage/${encodeURIComponent(booking.id)}?token=${encodeURIComponent(token)}`;
  const ics = useMemo(() => URL.createObjectURL(new Blob([icsOf(booking, type.title, type.location, origin + manage)], { type: 'text/calendar' })), [booking.id, booking.start]);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section class="confirmation" aria-labelledby="done">
      <h2 id="done" tabIndex={-1} ref={heading}>{booking.status === 'pending' ? 'Requested: the host will confirm' : 'Booked'}</h2>
      <p class="when"><strong>{longDate(localDate(booking.start, zone))}</strong>, {localTime(booking.start, zone)}–{localTime(booking.end, zone)} ({zone})</p>
      <p>{type.title}{type.location ? ` · ${type.location}` : ''}</p>
      <p class="actions">
        <a class="button" href={ics} download={`${type.slug}.ics`}>Add to calendar (.ics)</a>
        <a class="button secondary" href={manage}>Manage this booking</a>
      </p>
      <p class="meta">Keep the manage link: it is the only way to change or cancel this booking.</p>
    </section>
  );
}

function BookPage({ slug }: { slug: string }) {
  const [type, setType] = useState<EventType | null>(null);
  const [missing, setMissing] = useState<string | null>(null);
  const [zone, setZone] = useState(browserZone());
  const [date, setDate] = useState(() => initialDate(browserZone()));
  const [duration, setDuration] = useState(0);
  const [chosen, setChosen] = useState<Slot | null>(null);
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [answers, setAnswers] = useState<Record<string, unknown>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [alert, setAlert] = useState<{ text: string; offers: Slot[] } | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<{ booking: Booking; token: string } | null>(null);
  useTitle(type ? `Book: ${type.title}` : 'Book');
  useEffect(() => {
    anon.publicEventType(slug).then((t) => { setType(t); setDuration(t.durations[0]!); })
      .catch((e) => setMissing(e instanceof ApiError && e.status === 404 ? 'This booking page does not exist.' : messageOf(e)));
  }, [slug]);
  const { slots, error, refresh } = useMonthSlots(type, duration, monthOf(date), zone);
  // A time taken by someone else disappears; if it was the chosen one, say so.
  useEffect(() => {
    if (chosen && slots && !slots.some((s) => s.start === chosen.start)) {
      setAlert({ text: `${localTime(chosen.start, zone)} was just taken by someone else. Please pick another time.`, offers: nextFree(slots, chosen.start) });
      setChosen(null);
    }
  }, [slots]);

  // After a time is picked, the form comes next: focus its first field (keyboard users need not tab past every time).
  const picked = useRef(false);
  useEffect(() => {
    if (!chosen || !picked.current) return;
    picked.current = false;
    const name = document.getElementById('f-name');
    name?.focus();
    name?.scrollIntoView({ block: 'center' });
  }, [chosen]);

  if (missing) return <main><h1>Not found</h1><p>{missing}</p></main>;
  if (!type) return <main><p>Loading…</p></main>;
  if (done) return <main><Header type={type} /><Confirmation type={type} booking={done.booking} token={done.token} zone={zone} /></main>;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!chosen) return;
    const local = localCheck(type.questions, answers, name, email);
    setErrors(local);
    if (Object.keys(local).length > 0) {
      (document.getElementById(Object.keys(local)[0]!.startsWith('guest/') ? `f-${Object.keys(local)[0]!.slice(6)}` : `q-${Object.keys(local)[0]!.slice(8)}`) as HTMLElement | null)?.focus();
      return;
    }
    setBusy(true);
    setAlert(null);
    try {
      const held = await anon.hold({
        eventTypeId: type.id, start: chosen.start, duration,
        ...(type.questions.length > 0 ? { answers } : {}),
        guest: { name: name.trim(), email: email.trim(), timeZone: zone },
      });
      const token = held.manageToken!;
      const booking = await createClient({ baseUrl: origin, manageToken: token }).confirm(held.id);
      setDone({ booking, token });
    } catch (err) {
      if (err instanceof ApiError && (err.code === 'slot_taken' || err.code === 'not_bookable' || err.code === 'limit_reached')) {
        const fresh = await anon.slots({ eventTypeId: type.id, from: localDate(chosen.start, zone), to: localDate(Date.parse(chosen.start) + 14 * 86_400_000, zone), timeZone: zone, duration }).catch(() => null);
        setAlert({ text: `Sorry, ${localTime(chosen.start, zone)} was taken meanwhile.`, offers: nextFree(fresh?.slots ?? null, chosen.start) });
        setChosen(null);
        refresh();
      } else if (err instanceof ApiError && err.problem.errors) {
        setErrors(Object.fromEntries(err.problem.errors.map((f) => [f.path.replace(/^body\//, ''), f.message])));
        setAlert({ text: err.problem.detail, offers: [] });
      } else {
        setAlert({ text: messageOf(err), offers: [] });
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main>
      <Header type={type} />
      {!type.active && <p role="alert" class="error">This service is not taking bookings at the moment.</p>}
      <div class="controls">
        <DurationChoice type={type} duration={duration} onChange={(d) => { setDuration(d); setChosen(null); }} />
        <ZoneChoice zone={zone} onChange={(z) => { setZone(z); setChosen(null); }} />
      </div>
      {alert && (
        <div role="alert" class="error">
          <p>{alert.text}</p>
          {alert.offers.length > 0 && (
            <p>Next free times:{' '}
              {alert.offers.map((s) => (
                <button key={s.start} type="button" class="time" onClick={() => { setDate(localDate(s.start, zone)); setChosen(s); setAlert(null); }}>
                  {localTime(s.start, zone)}{localDate(s.start, zone) !== localDate(alert.offers[0]!.start, zone) || localDate(s.start, zone) !== date ? ` (${longDate(localDate(s.start, zone))})` : ''}
                </button>
              ))}
            </p>
          )}
        </div>
      )}
      <Picker type={type} duration={duration} zone={zone} date={date} onDate={(d) => { setDate(d); setChosen(null); }}
        chosen={chosen} onPick={(s) => { picked.current = true; setChosen(s); setAlert(null); }} slots={slots} error={error} />
      {chosen && (
        <form class="details" onSubmit={submit} noValidate aria-label="Your details">
          <h2>Your details</h2>
          <div class="field">
            <label for="f-name">Name</label>
            <input id="f-name" autocomplete="name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} required
              aria-invalid={errors['guest/name'] ? true : undefined} aria-describedby={errors['guest/name'] ? 'f-name-error' : undefined} />
            {errors['guest/name'] && <p id="f-name-error" class="field-error">{errors['guest/name']}</p>}
          </div>
          <div class="field">
            <label for="f-email">Email</label>
            <input id="f-email" type="email" autocomplete="email" value={email} onInput={(e) => setEmail((e.target as HTMLInputElement).value)} required
              aria-invalid={errors['guest/email'] ? true : undefined} aria-describedby={errors['guest/email'] ? 'f-email-error' : undefined} />
            {errors['guest/email'] && <p id="f-email-error" class="field-error">{errors['guest/email']}</p>}
          </div>
          {type.questions.map((q) => (
            <QuestionField key={q.id} q={q} value={answers[q.id]} error={errors[`answers/${q.id}`]}
              onChange={(v) => setAnswers((a) => { const next = { ...a }; if (v === undefined) delete next[q.id]; else next[q.id] = v; return next; })} />
          ))}
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Booking…' : `Book ${localTime(chosen.start, zone)} on ${longDate(localDate(chosen.start, zone))}`}
          </button>
        </form>
      )}
    </main>
  );
}

function Header({ type }: { type: EventType }) {
  const host = type.hosts.map((h) => h.name).filter(Boolean).join(', ');
  return (
    <header>
      <h1>{type.title}</h1>
      {host && <p class="meta">with {host}</p>}
      {type.description && <p>{type.description}</p>}
      {type.location && <p class="meta">{type.location}</p>}
    </header>
  );
}

function ManagePage({ id, token }: { id: string; token: string }) {
  const guest = useMemo(() => createClient({ baseUrl: origin, manageToken: token }), [token]);
  const [booking, setBooking] = useState<Booking | null>(null);
  const [type, setType] = useState<EventType | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [zone, setZone] = useState(browserZone());
  const [moving, setMoving] = useState(false);
  const [date, setDate] = useState(() => initialDate(browserZone()));
  const [chosen, setChosen] = useState<Slot | null>(null);
  const [busy, setBusy] = useState(false);
  useTitle('Manage your booking');
  useEffect(() => {
    guest.booking(id).then(async (b) => {
      setBooking(b);
      setDate(localDate(b.start, zone));
      if (b.eventTypeId) setType(await anon.eventType(b.eventTypeId));
    }).catch((e) => setProblem(e instanceof ApiError && (e.status === 401 || e.status === 404) ? 'This manage link is not valid.' : messageOf(e)));
  }, [id, token]);
  const { slots, error, refresh } = useMonthSlots(moving ? type : null, booking ? (Date.parse(booking.end) - Date.parse(booking.start)) / 60_000 : 0, monthOf(date), zone);
  if (problem) return <main><h1>Manage your booking</h1><p role="alert" class="error">{problem}</p></main>;
  if (!booking || (booking.eventTypeId && !type)) return <main><p>Loading…</p></main>;
  const title = type?.title ?? 'Your booking';
  const live = booking.status === 'held' || booking.status === 'confirmed' || booking.status === 'pending';
  const act = async (what: () => Promise<Booking>, done: string) => {
    setBusy(true);
    setNotice(null);
    try {
      const b = await what();
      setBooking(b);
      setNotice(done);
      setMoving(false);
      setChosen(null);
    } catch (e) {
      setNotice(messageOf(e));
      if (e instanceof ApiError && e.code === 'slot_taken') { setChosen(null); refresh(); }
    } finally {
      setBusy(false);
    }
  };
  return (
    <main>
      <header><h1>{title}</h1><p class="meta">Manage your booking</p></header>
      <section class="confirmation" aria-label="Booking">
        <p class="when"><strong>{longDate(localDate(booking.start, zone))}</strong>, {localTime(booking.start, zone)}–{localTime(booking.end, zone)} ({zone})</p>
        <p>Status: <strong>{booking.status}</strong>{booking.guest ? ` · ${booking.guest.name}` : ''}</p>
        {notice && <p role="alert" class={notice.startsWith('Cancelled') || notice.startsWith('Moved') ? 'ok' : 'error'}>{notice}</p>}
        {live && !moving && (
          <p class="actions">
            <button type="button" class="button" onClick={() => setMoving(true)}>Reschedule</button>
            <button type="button" class="button secondary" disabled={busy} onClick={() => act(() => guest.cancel(booking.id), 'Cancelled. The time is free again.')}>Cancel booking</button>
          </p>
        )}
      </section>
      {moving && type && (
        <>
          <div class="controls"><ZoneChoice zone={zone} onChange={setZone} /></div>
          <Picker type={type} duration={(Date.parse(booking.end) - Date.parse(booking.start)) / 60_000} zone={zone} date={date}
            onDate={(d) => { setDate(d); setChosen(null); }} chosen={chosen} onPick={setChosen} slots={slots} error={error} />
          <p class="actions">
            <button type="button" class="primary" disabled={!chosen || busy}
              onClick={() => chosen && act(() => guest.reschedule(booking.id, { start: chosen.start }), `Moved to ${localTime(chosen.start, zone)} on ${longDate(localDate(chosen.start, zone))}.`)}>
              {chosen ? `Reschedule to ${localTime(chosen.start, zone)}` : 'Pick a new time'}
            </button>
            <button type="button" class="button secondary" onClick={() => { setMoving(false); setChosen(null); }}>Keep the current time</button>
          </p>
        </>
      )}
    </main>
  );
}

function App() {
  const path = window.location.pathname.replace(/\/+$/, '');
  const manage = /^\/book\/manage\/([^/]+)$/.exec(path);
  if (manage) return <ManagePage id={decodeURIComponent(manage[1]!)} token={new URLSearchParams(window.location.search).get('token') ?? ''} />;
  const slug = /^\/book\/([^/]+)$/.exec(path)?.[1];
  return slug ? <BookPage slug={decodeURIComponent(slug)} /> : <main><h1>Not found</h1></main>;
}

render(<App />, document.getElementById('app')!);

// Embedded (book/embed.js): tell the host page our height so its iframe needs no scroll bar.
if (window.parent !== window) {
  const tell = () => window.parent.postMessage({ type: 'booking-page:height', height: document.documentElement.scrollHeight }, '*');
  new ResizeObserver(tell).observe(document.body);
}
