import type { ChildProcess } from 'node:child_process';

/** Every stdout line of a child, parsed as JSON when it is, with a way to wait for one. */
export function logLines(child: ChildProcess) {
  const seen: Array<Record<string, unknown>> = [];
  const waiters: Array<{
    match: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }> = [];
  let partial = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    for (const text of complete) {
      if (!text.trim()) continue;
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { text };
      }
      seen.push(line);
      for (const w of waiters.filter((w) => w.match(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return {
    seen,
    exited,
    stderr: () => stderr,
    /** The first line matching, past or future; rejects if the child exits without one. */
    next(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
      const found = seen.find(match);
      if (found) return Promise.resolve(found);
      return Promise.race([
        new Promise<Record<string, unknown>>((resolve) => waiters.push({ match, resolve })),
        exited.then((code) => {
          throw new Error(
            `child exited (${code}) first; stdout: ${JSON.stringify(seen)} stderr: ${stderr.slice(-2000)}`,
          );
        }),
      ]);
    },
  };
}
