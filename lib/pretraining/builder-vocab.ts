import type { WordPieceTokenizer } from '../tokenizer/wordpiece-tokenizer.js';
import type { BuilderVocab } from './example-builder.js';

const requireId = (tokenizer: WordPieceTokenizer, token: string): number => {
  const id = tokenizer.tokenToId(token);
  if (id === undefined) throw new Error(`the tokenizer has no ${token} token, which pretraining examples need`);
  return id;
};

/**
 * The vocabulary facts the builder uses, from a loaded tokenizer. Special tokens are the tokenizer's
 * added special tokens (the values of special_tokens_map.json). The random-replacement list is every
 * entry except `[unused…]`, in ascending id order: the reference iterates a Rust HashMap whose order
 * changes from process to process, so only the ids written at randomly replaced positions can differ.
 */
export function builderVocab(tokenizer: WordPieceTokenizer): BuilderVocab {
  const isSpecial = new Uint8Array(tokenizer.vocabSize);
  for (const id of tokenizer.addedTokens.values()) isSpecial[id] = 1;
  const replacement: number[] = [];
  tokenizer.idToToken.forEach((token, id) => {
    if (token !== undefined && !(token.startsWith('[unused') && token.endsWith(']'))) replacement.push(id);
  });
  return {
    isSpecial,
    isContinuation: tokenizer.isContinuation,
    maskId: requireId(tokenizer, '[MASK]'),
    clsId: requireId(tokenizer, '[CLS]'),
    sepId: requireId(tokenizer, '[SEP]'),
    padId: requireId(tokenizer, '[PAD]'),
    randomReplacementIds: Int32Array.from(replacement),
  };
}
