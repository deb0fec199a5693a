import type { Command } from 'commander';
import {
  describeDelivery,
  describeEvent,
  describeEvents,
  type EventDescription,
} from '../../src/catalog/describe';
import { lookupEvent } from '../../src/catalog';
import { toGatewayError } from '../../src/errors';
import { fail, printJson, printTable, wantsJson } from './output';

const COLUMNS = ['name', 'namespace', 'room', 'delivery', 'history', 'description'];

function row(event: EventDescription): Record<string, unknown> {
  return {
    ...event,
    delivery: describeDelivery(event.delivery),
    history: event.history === false ? 'no' : 'yes',
  };
}

/**
 * `sb events [name]`: the event catalog, read from the code (no Redis needed). Without a name, one
 * line per event; with a name, that entry's JSON Schema and example too. `--json` prints the same
 * descriptions the console and the AsyncAPI document are built from.
 */
export function registerEvents(program: Command): void {
  program
    .command('events')
    .description(
      'list the event catalog: namespace, room, delivery policy; with a name, its JSON Schema and an example',
    )
    .argument('[name]', 'one event, e.g. post_liked')
    .action(function (this: Command, name: string | undefined) {
      try {
        if (name !== undefined) {
          const event = describeEvent(lookupEvent(name));
          if (wantsJson(this)) return printJson(event);
          printTable([row(event)], COLUMNS);
          process.stdout.write(
            `\nschema:\n${JSON.stringify(event.schema, null, 2)}\n\nexample (POST /api/events):\n${JSON.stringify({ event: event.name, ...event.example }, null, 2)}\n`,
          );
          return;
        }
        const events = describeEvents();
        if (wantsJson(this)) return printJson(events);
        printTable(events.map(row), COLUMNS);
      } catch (err) {
        fail(toGatewayError(err));
      }
    });
}
