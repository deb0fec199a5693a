import { listEvents } from '../../src/catalog';
import { runSb } from '../helpers/cli';
import { testConfig } from '../helpers/stack';

describe('sb events', () => {
  const config = testConfig();

  it('lists every catalog event with its namespace, room and delivery policy', async () => {
    const run = await runSb(config, ['events']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+NAMESPACE\s+ROOM\s+DELIVERY\s+HISTORY\s+DESCRIPTION$/);
    expect(lines).toHaveLength(listEvents().length + 1);
    for (const event of listEvents()) {
      const line = lines.find((l) => l.startsWith(`${event.name} `));
      expect({ event: event.name, line }).toEqual({
        event: event.name,
        line: expect.stringContaining(event.roomTemplate) as unknown,
      });
      expect(line).toContain(event.namespace);
    }
    expect(lines.find((l) => l.startsWith('notification '))).toMatch(
      /throttle 1000 ms, batch of at most 20/,
    );
    expect(lines.find((l) => l.startsWith('user_status_changed '))).toMatch(/\sno\s/);
  });

  it('describes one event with its JSON Schema and an example that the catalog accepts', async () => {
    const run = await runSb(config, ['--json', 'events', 'payment_confirmed']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const event = JSON.parse(run.stdout) as {
      schema: { required: unknown };
      example: { data: unknown };
    };
    expect(event).toMatchObject({
      name: 'payment_confirmed',
      namespace: '/orders',
      room: 'order:{orderId}',
      delivery: { kind: 'immediate' },
    });
    expect(event.schema.required).toEqual(['orderId', 'paymentId', 'amount', 'currency']);
    const entry = listEvents().find((e) => e.name === 'payment_confirmed')!;
    expect(entry.schema.safeParse(event.example.data).success).toBe(true);
  });

  it('answers an unknown event with one line and a non-zero exit', async () => {
    const run = await runSb(config, ['events', 'no_such_event']);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('sb: unknown_event: unknown event "no_such_event"\n');
  });
});
