/** What the sign-up flow tells about itself (the `status` query and result) and the signal it takes. */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { EmailDelivery } from '../../activities/signup/types';
import type { NotificationOutcome } from './signup-branches';

export type SignupState =
  | 'received'
  | 'sending-verification'
  | 'waiting'
  | 'verified'
  | 'done'
  | 'expired'
  /** Too many wrong codes (see `lockedReason`). */
  | 'locked';

export interface SignupStatus {
  userId: string;
  email: string;
  state: SignupState;
  shard: number;
  taskQueue: string;
  /** When the code stops being valid (ISO time), once the mail is being sent. */
  expiresAt?: string;
  verifiedAt?: string;
  /** Codes received by the `verified` signal (and checked), and how many of them were wrong. */
  codesReceived: number;
  wrongCodes: number;
  /** Why the sign-up is locked, when it is. */
  lockedReason?: string;
  /** The verification mail's delivery; its subject carries no code. */
  verification?: EmailDelivery;
  welcome?: EmailDelivery;
  notification?: NotificationOutcome;
}

/** The user enters the code from the verification mail. */
export const verifiedSignal = defineSignal<[code: string]>('verified');
export const signupStatusQuery = defineQuery<SignupStatus>('status');
