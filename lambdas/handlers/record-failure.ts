// Placeholder so the stack synthesizes while the handler is written; replaced by the real handler.
export const handler = async (): Promise<never> => {
  throw new Error('not implemented yet');
};
