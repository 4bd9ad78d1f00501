import { IsOptional } from 'class-validator';

import { IsEntityId, IsRequiredText } from './payload-fields.js';

/** Payload of `topic.rejected`: a topic that will not be produced. */
export class TopicRejectedPayload {
  /** Topic id issued by the Topic Engine. */
  @IsEntityId()
  readonly topicId!: string;

  /** Reason for the rejection, readable by an editor. */
  @IsRequiredText()
  readonly reason!: string;

  /** Id of the reviewer or automatic rule that rejected the topic. */
  @IsOptional()
  @IsEntityId()
  readonly rejectedBy?: string;
}
