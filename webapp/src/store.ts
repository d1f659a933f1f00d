// store.ts is the app's one observable-value helper: objects that own state
// (a party session) notify subscribers, and components re-render from it.
import { useEffect, useState } from "preact/hooks";

/** Observable is a value that tells its subscribers when it changes. */
export class Observable<T> {
  private listeners = new Set<(v: T) => void>();
  constructor(private value: T) {}

  /** get returns the current value. */
  get(): T {
    return this.value;
  }

  /** set replaces the value and notifies every subscriber. */
  set(v: T): void {
    this.value = v;
    for (const l of [...this.listeners]) l(v);
  }

  /** update applies a partial change to an object value. */
  update(patch: Partial<T>): void {
    this.set({ ...this.value, ...patch });
  }

  /** subscribe calls fn on each change until the returned function is called. */
  subscribe(fn: (v: T) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/** useObservable re-renders the component whenever o changes. */
export function useObservable<T>(o: Observable<T>): T {
  const [v, setV] = useState(o.get());
  useEffect(() => {
    setV(o.get());
    return o.subscribe(setV);
  }, [o]);
  return v;
}
