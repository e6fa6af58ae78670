import { fileSystemFor, joinPath } from '../fs/index.js';
import { loadTokenizer, parseVocabFile, tokenContent } from './load-tokenizer.js';
import { readOptionalFile } from './read-optional-file.js';
import { type JsonScalar, tokenizerConfigText } from './tokenizer-config-text.js';
import { tokenizerJsonObject } from './tokenizer-file-text.js';
import { bertTokenizerJson, formatTokenizerJson } from './tokenizer-json.js';
import { TokenizerLoadError } from './tokenizer-load-error.js';

export interface SaveTokenizerFolderOptions {
  /** The model's max_position_embeddings, as KoBigBird's converter passes `model_max_length` to from_pretrained. */
  readonly modelMaxLength?: number;
}

/**
 * Writes the tokenizer files of a Hugging Face model folder, as KoBigBird's converter does with
 * `AutoTokenizer.from_pretrained(sourceDir, model_max_length=…).save_pretrained(outputDir)`:
 * vocab.txt, special_tokens_map.json, tokenizer_config.json, tokenizer.json (and added_tokens.json
 * when the source has one). Returns the paths written.
 *
 * vocab.txt and special_tokens_map.json are copied byte for byte. tokenizer_config.json is copied
 * when it already has the requested model_max_length and a tokenizer_class, else rewritten with only
 * those keys changed. transformers' save_pretrained instead writes every init argument it knows
 * (name_or_path, special_tokens_map_file, and in newer versions added_tokens_decoder, …); those
 * describe the machine that saved the folder, not the tokenizer, and loading ignores or recomputes
 * them, so the published KoBigBird folder (373-byte config) is what we reproduce.
 *
 * Both folders may be local or `gs://`. Each file is written whole and atomically (locally under a
 * temporary name renamed into place, on Cloud Storage as one finalized upload), so a crash leaves
 * either the old file or the complete new one. Every source file is read and checked before the
 * first write.
 */
export async function saveTokenizerFolder(sourceDir: string, outputDir: string, options: SaveTokenizerFolderOptions = {}): Promise<string[]> {
  const { modelMaxLength } = options;
  if (modelMaxLength !== undefined && !(Number.isSafeInteger(modelMaxLength) && modelMaxLength > 0)) {
    throw new Error(`saveTokenizerFolder: modelMaxLength must be a positive integer, got ${modelMaxLength}`);
  }
  // These three are the folder: without one, transformers falls back to defaults (do_lower_case=true,
  // no special tokens) that would silently tokenize differently from what the model was trained with.
  const vocab = await readRequired(sourceDir, 'vocab.txt');
  const specialMapBytes = await readRequired(sourceDir, 'special_tokens_map.json');
  const configBytes = await readRequired(sourceDir, 'tokenizer_config.json');
  const specialMap = tokenizerJsonObject(joinPath(sourceDir, 'special_tokens_map.json'), specialMapBytes);
  const configFile = joinPath(sourceDir, 'tokenizer_config.json');
  const config = tokenizerJsonObject(configFile, configBytes);
  const addedTokensBytes = await readOptional(sourceDir, 'added_tokens.json');
  const sourceTokenizerJson = await readOptional(sourceDir, 'tokenizer.json');
  // Copied files are checked as loading them would check them: nothing unreadable reaches the output.
  parseVocabFile(joinPath(sourceDir, 'vocab.txt'), vocab);
  // Checks the special tokens, the flags, and tokenizer.json where there is one (which it then loads instead of vocab.txt).
  const tokenizer = await loadTokenizer(sourceDir);

  const updates: Record<string, JsonScalar> = {};
  if (modelMaxLength !== undefined && config.model_max_length !== modelMaxLength) updates.model_max_length = modelMaxLength;
  // save_pretrained always records the class; AutoTokenizer needs it when there is no config.json beside.
  if (typeof config.tokenizer_class !== 'string') updates.tokenizer_class = 'BertTokenizer';
  const configOut =
    Object.keys(updates).length === 0 ? configBytes : Buffer.from(tokenizerConfigText(configBytes.toString('utf8'), updates, configFile), 'utf8');

  let tokenizerJson: Buffer;
  if (sourceTokenizerJson !== undefined) {
    tokenizerJson = sourceTokenizerJson;
  } else {
    if (addedTokensBytes !== undefined) {
      const file = joinPath(sourceDir, 'added_tokens.json');
      for (const [token, id] of Object.entries(tokenizerJsonObject(file, addedTokensBytes))) {
        const ours = tokenizer.addedTokens.get(token);
        if (ours !== id) {
          throw new TokenizerLoadError(
            file,
            `${JSON.stringify(token)} has id ${JSON.stringify(id)}, but kbb gives it ${ours === undefined ? 'no added-token id' : `id ${ours}`}: kbb registers only the special tokens of special_tokens_map.json as added tokens, so it cannot write a tokenizer.json for this folder that agrees with transformers`,
          );
        }
      }
    }
    const json = bertTokenizerJson(tokenizer, {
      clsToken: tokenContent(specialMap.cls_token ?? config.cls_token),
      sepToken: tokenContent(specialMap.sep_token ?? config.sep_token),
      stripAccents: config.strip_accents === undefined || config.strip_accents === null ? null : Boolean(config.strip_accents),
    });
    tokenizerJson = Buffer.from(formatTokenizerJson(json), 'utf8');
  }

  const outputs: [string, Buffer][] = [
    ['vocab.txt', vocab],
    ['special_tokens_map.json', specialMapBytes],
    ['tokenizer_config.json', configOut],
  ];
  if (addedTokensBytes !== undefined) outputs.push(['added_tokens.json', addedTokensBytes]);
  outputs.push(['tokenizer.json', tokenizerJson]);

  const output = fileSystemFor(outputDir);
  await output.mkdir(outputDir);
  const written: string[] = [];
  for (const [name, bytes] of outputs) {
    const path = joinPath(outputDir, name);
    await output.writeFile(path, bytes);
    written.push(path);
  }
  return written;
}

const readOptional = (dir: string, name: string): Promise<Buffer | undefined> => readOptionalFile(joinPath(dir, name));

async function readRequired(dir: string, name: string): Promise<Buffer> {
  const bytes = await readOptional(dir, name);
  if (bytes === undefined)
    throw new TokenizerLoadError(joinPath(dir, name), `not found: a tokenizer folder needs vocab.txt, tokenizer_config.json and special_tokens_map.json`);
  return bytes;
}
