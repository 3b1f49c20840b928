/** What the client does on browser network and visibility changes. */
export interface BrowserHookHandlers {
  offline(): void;
  online(): void;
  visible(): void;
}

/**
 * Listens to `online`/`offline` on window and `visibilitychange` on document when they exist
 * (browsers); returns a function that removes the listeners. Does nothing on Node.
 */
export function attachBrowserHooks(handlers: BrowserHookHandlers): () => void {
  const removers: Array<() => void> = [];
  if (typeof window !== 'undefined' && typeof window.addEventListener === 'function') {
    const offline = (): void => handlers.offline();
    const online = (): void => handlers.online();
    window.addEventListener('offline', offline);
    window.addEventListener('online', online);
    removers.push(() => {
      window.removeEventListener('offline', offline);
      window.removeEventListener('online', online);
    });
  }
  if (typeof document !== 'undefined' && typeof document.addEventListener === 'function') {
    const visibility = (): void => {
      if (document.visibilityState === 'visible') handlers.visible();
    };
    document.addEventListener('visibilitychange', visibility);
    removers.push(() => document.removeEventListener('visibilitychange', visibility));
  }
  return () => {
    for (const remove of removers) remove();
  };
}
