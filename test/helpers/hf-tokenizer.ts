import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import tokenizers from 'tokenizers';

export interface HfOracleOptions {
  readonly lowercase?: boolean;
  readonly stripAccents?: boolean;
}

export const KOBIGBIRD_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '<s>', '</s>'];

/**
 * Hugging Face's Rust tokenizer built the way transformers' BertConverter builds BertTokenizerFast
 * from a vocab.txt: the independent oracle our tokenizer is compared against.
 */
export async function hfBertTokenizer(dir: string, options: HfOracleOptions = {}): Promise<tokenizers.Tokenizer> {
  const model = await tokenizers.WordPiece.fromFile(join(dir, 'vocab.txt'), {
    unkToken: '[UNK]',
    continuingSubwordPrefix: '##',
    maxInputCharsPerWord: 100,
  });
  const tokenizer = bertPipeline(model, options);
  const specials = Object.values(JSON.parse(readFileSync(join(dir, 'special_tokens_map.json'), 'utf8')) as Record<string, string>);
  tokenizer.addSpecialTokens(specials);
  return tokenizer;
}

/** A Rust tokenizer around `model` with BERT's normalizer (cased unless told otherwise) and pre-tokenizer. */
function bertPipeline(model: tokenizers.Model, options: HfOracleOptions): tokenizers.Tokenizer {
  const tokenizer = new tokenizers.Tokenizer(model);
  tokenizer.setNormalizer(
    tokenizers.bertNormalizer({
      cleanText: true,
      handleChineseChars: true,
      stripAccents: options.stripAccents ?? false,
      lowercase: options.lowercase ?? false,
    }),
  );
  tokenizer.setPreTokenizer(tokenizers.bertPreTokenizer());
  return tokenizer;
}

/** Ids of every text, batched through the Rust tokenizer's thread pool. */
export async function hfEncodeAll(tokenizer: tokenizers.Tokenizer, texts: readonly string[], batch = 4096): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = 0; i < texts.length; i += batch) {
    const encodings = await tokenizer.encodeBatch(texts.slice(i, i + batch), { addSpecialTokens: false });
    for (const e of encodings) out.push(e.getIds());
  }
  return out;
}

/**
 * Hugging Face's trainer on text files: `Tokenizer.train(files)` with an empty WordPiece model, which
 * trains with `WordPieceTrainer`'s defaults (30,000 entries, no special tokens, `##`), after the BERT
 * normalizer and pre-tokenizer. Returns the vocabulary in id order. Each call is one independent run:
 * the Rust trainer's hash maps are seeded per process and per map, so runs may differ where pairs tie.
 */
export function hfTrainWordPiece(files: readonly string[], options: HfOracleOptions = {}): string[] {
  const tokenizer = bertPipeline(tokenizers.WordPiece.empty(), options);
  tokenizer.train([...files]);
  const vocab: string[] = [];
  for (const [token, id] of Object.entries(tokenizer.getVocab(true))) vocab[id] = token;
  return vocab;
}
