/** A refused partition operation; classifyPartitionError (handlers/) reads `errorCode`. */
export class PartitionError extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'PartitionError';
  }
}
