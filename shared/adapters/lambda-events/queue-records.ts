// The two work queues' record bodies, as their workers read them. The schemas are the queues'
// contracts and live with their senders (shared/app/commands.ts, shared/app/grants/messages.ts);
// what is read here is the JSON text SQS delivers, named `command` or `message` in every error.
import { type CommandMessage, CommandMessageSchema } from '#app/commands.ts';
import { type ProvisioningMessage, ProvisioningMessageSchema } from '#app/grants/messages.ts';
import { parseJsonRecord } from './parse.ts';

/** A commands-queue record's body (process-command). */
export function parseCommandMessage(body: string): CommandMessage {
  return parseJsonRecord(CommandMessageSchema, body, 'command');
}

/** A provisioning-queue record's body (provision-access). */
export function parseProvisioningMessage(body: string): ProvisioningMessage {
  return parseJsonRecord(ProvisioningMessageSchema, body, 'message');
}
