import type { Detector, Finding } from './finding.js';

/**
 * Prompt-injection and jailbreak scoring. Text is normalised once (NFKC,
 * lowercase, zero-width stripped, Unicode tag characters decoded, Cyrillic
 * and Greek look-alikes mapped inside mixed-script words, whitespace
 * collapsed) with an offset map back to the original, then weighted signals
 * are combined by noisy-OR: score = (1 - Π(1 - wᵢ)) · (1 + Σ negatives).
 * Negative signals are framings that talk about attacks rather than make one
 * (questions about the concept, quoting, security-training context).
 *
 * Every pattern is linear: no unbounded quantifier sits inside another
 * quantifier, and every gap between keywords is a bounded character class.
 */
export const INJECTION_THRESHOLD = 0.5;

export type InjectionSource = 'user' | 'system' | 'tool_result' | 'document';

export interface InjectionSignal {
  /** `family.name`, e.g. `override.ignore_prior`; negative weights are `meta.*`. */
  signal: string;
  weight: number;
  /** UTF-16 offsets into the scored text, end exclusive. */
  start: number;
  end: number;
}

export interface InjectionScore {
  score: number;
  signals: InjectionSignal[];
}

interface Rule {
  signal: string;
  re: RegExp;
  /** Weight for user and system text; negative for meta framings. */
  w: number;
  /** Weight for tool results and documents; defaults to w × UNTRUSTED_BOOST. */
  wu?: number;
  /** Anchor words (or single punctuation, or NONASCII), one of which any match contains; the rule is skipped without one. */
  on?: string;
  /** Only anchors at the start of a line count (the pattern begins with the newline before them). */
  lineStart?: boolean;
  /** Every match begins at an anchor, so the rule is tried only there (sticky) instead of over windows. */
  lead?: boolean;
}

const UNTRUSTED_BOOST = 1.1;
/** A signal entirely inside quotes in user text is more often cited than meant. */
const QUOTED_FACTOR = 0.6;
/** Operator-written system prompts legitimately say "never reveal your instructions". */
const SYSTEM_FACTOR = 0.5;
const MAX_DISCOUNT = 0.8;
const MAX_MATCHES_PER_RULE = 4;
const BASE64_MAX_RUN = 4096;
const BASE64_MAX_CANDIDATES = 8;
const MAX_DEPTH = 2;
const MAX_HITS_PER_RULE = 16;
const FULL_SCAN = -1;
/** A match starts at most WINDOW_BACK before its anchor and ends within WINDOW_AHEAD after it. */
const WINDOW_BACK = 160;
const WINDOW_AHEAD = 240;
/** Meta framings (a question about attacks, a quotation) are looked for this far around a positive signal. */
const META_WINDOW = 300;

const V_IGNORE = String.raw`(?:ignore|ignoring|ignor|ingore|ignroe|igonre|disregard|disregarding|disreguard|forget|forgetting|discard|bypass|override|overrule|abandon|set aside|throw out|throw away|cancel|scrap|skip|ditch|dismiss|neglect)`;
const DETS = String.raw`(?:(?:all|any|every|each|of|the|your|ur|my|these|those|its|that|this|what|whatever)\s){0,3}`;
const MODS = String.raw`(?:previous|previously given|prior|above|earlier|preceding|former|original|initial|old|foregoing|past|aforementioned|existing|system|developer|dev|safety|default|programmed|current)`;
const NOUNS = String.raw`(?:instructions?|instrucitons|rules?|guidelines?|directives?|directions?|prompts?|commands?|guidance|constraints|restrictions|polic(?:y|ies)|programming|orders|training|guardrails|safeguards|context|settings)\b`;
const V_EXTRACT = String.raw`(?:repeats?|spells|prints|print|reveal|show|display|output|tell|give|share|leak|dump|recite|write|copy|paste|list|disclose|spell|echo|type|provide|return|expose|translate|summari[sz]e|quote|render|state|output)`;
const AI = String.raw`(?:ai|llms?|language models?|assistants?|chatbots?|agents?|gpt|chatgpt|claude|copilot|gemini|bots?|models?|ai (?:systems?|agents?|models?|assistants?|recruiters?|reviewers?|shopping agents?)|automated (?:screening )?(?:systems?|tools?|agents?)|grader ai)`;
const SENSITIVE = String.raw`(?:conversation|chat (?:history|logs?)|previous (?:messages|prompts)|emails?|user'?s? (?:data|info|information|details|emails?|passwords?|credentials|files|address book|contact list|contacts|name|phone|location|messages|prompts|one-time)|contact list|address book|api keys?|tokens?|secrets?|secrets\.env|\.env|passwords?|credentials|cookies?|session|env(?:ironment)? variables|ssh keys?|private keys?|personal (?:data|information)|memory|system prompt|documents|phone numbers|summary|records|database)`;

const r = (src: string): RegExp => new RegExp(src, 'g');

/* Weights are calibrated so one unambiguous signal crosses the threshold and an ambiguous one needs company. */
const RULES: readonly Rule[] = [
  // Instruction override.
  { signal: 'override.ignore_prior', lead: true, on: 'ignore ignoring ignor ingore ignroe igonre disregard disregarding disreguard forget forgetting discard bypass override overrule abandon set throw cancel scrap skip ditch dismiss neglect', w: 0.8, re: r(String.raw`\b${V_IGNORE}\s${DETS}${MODS}\s(?:[a-z]{1,20}\s)?${NOUNS}`) },
  { signal: 'override.ignore_yours', lead: true, on: 'ignore ignoring ignor ingore ignroe igonre disregard disregarding disreguard forget forgetting discard bypass override overrule abandon set throw cancel scrap skip ditch dismiss neglect', w: 0.7, re: r(String.raw`\b${V_IGNORE}\s(?:all\s)?(?:of\s)?(?:your|ur|the system'?s?|the developer'?s?)\s(?:[a-z]{1,20}\s)?${NOUNS}`) },
  { signal: 'override.ignore_generic', lead: true, on: 'ignore ignoring ignor ingore ignroe igonre disregard disregarding disreguard forget forgetting discard bypass override overrule abandon set throw cancel scrap skip ditch dismiss neglect', w: 0.45, re: r(String.raw`\b${V_IGNORE}\s${DETS}${NOUNS}`) },
  { signal: 'override.ignore_everything', lead: true, on: 'ignore ignoring ignor ingore ignroe igonre disregard disregarding disreguard forget forgetting discard bypass override overrule abandon set throw cancel scrap skip ditch dismiss neglect', w: 0.75, re: r(String.raw`\b${V_IGNORE}\s(?:all\s)?(?:everything|anything|all|what(?:ever)?)\s(?:that\s)?(?:you (?:were|have been|got|was) (?:told|given|taught|instructed)|i (?:said|told you|wrote)|(?:was|is|has been) (?:said|written|stated)|above|before|prior|previously|earlier|the system (?:said|told you)|(?:they|the developers?|your (?:creators?|developers?)) (?:said|told you))`) },
  { signal: 'override.the_above', lead: true, on: 'ignore ignoring ignor ingore ignroe igonre disregard disregarding disreguard forget forgetting discard bypass override overrule abandon set throw cancel scrap skip ditch dismiss neglect', w: 0.7, re: r(String.raw`\b${V_IGNORE}\s(?:all\s)?(?:of\s)?(?:the|everything|anything)\s(?:above|preceding|foregoing|previous|prior)(?=$|[.,;:!)-]|\s(?:and|then|now|completely|entirely|please|instead)\b)`) },
  { signal: 'override.before_this', lead: true, on: 'instruction instructions rules guidelines everything anything directives prompt prompts', w: 0.5, re: r(String.raw`\b(?:instructions?|rules|guidelines|everything|anything|directives|prompts?)\s(?:that\s)?(?:you (?:got|received|were given|have been given|were told|have been told|were provided|were programmed with)|given to you|(?:i|they|the system) (?:said|told you|gave you))\s(?:before|earlier|previously|until now|so far|above|prior|at the start)`) },
  { signal: 'override.prior_void', on: 'instructions instruction rules directives prompt guidelines directions', w: 0.75, re: r(String.raw`\b(?:above|previous|prior|earlier|preceding|original|old|system|initial)\s(?:instructions?|rules|directives|prompt|guidelines|directions)\s(?:(?:is|are|was|were|have been|has been)\s)?(?:(?:a|just|all|now|hereby|completely|fully)\s)?(?:a test|void|null|cancel+ed|revoked|obsolete|outdated|invalid|fake|wrong|a mistake|no longer (?:valid|apply|applicable|in effect|relevant)|overridden|superseded|irrelevant|deprecated|lifted|removed|disabled)|\b(?:your|the assistant's|the ai's) (?:instructions|rules|guidelines|directives|system prompt) (?:have|has) (?:been|just been) (?:updated|changed|replaced|modified|revised|rewritten|overridden)\b`) },
  { signal: 'override.new_instructions', on: 'instructions instruction directives orders prompt commands command', w: 0.6, re: r(String.raw`\b(?:new|updated|revised|real|actual|true|secret|override|admin|priority)\s(?:system\s)?(?:instructions?|directives|orders|prompt|system prompt|commands?)\s?(?::|are\b|follow\b)`) },
  { signal: 'override.new_rules', on: 'rules rule task objective guidelines goal job instructions instruction mission purpose role directive priority', w: 0.45, re: r(String.raw`\b(?:new|updated|revised|real|actual)\s(?:rules|task|objective|guidelines|goal)\s?(?::|are\b)|\byour\s(?:new|real|only|actual|true|updated|primary)\s(?:task|goal|job|instructions?|objective|mission|purpose|role|directive|rules?|priority)\s(?:is|are|will be|now|:)`) },
  { signal: 'override.from_now_on', lead: true, on: 'from', w: 0.35, re: r(String.raw`\bfrom (?:now|this point|this moment|here)(?: on| onwards?| forward)?,?\s(?:on\s)?you\s(?:will|are|must|shall|should|'ll|can|may|have to|need to|act|respond|answer|reply|behave|only|no longer|won't|will not|do not|don't|never)\b`) },
  { signal: 'override.no_longer_bound', on: 'longer not', w: 0.75, re: r(String.raw`\byou\s(?:are|'re|r)\s(?:now\s)?(?:no longer|not)\s(?:bound|restricted|limited|constrained|required to follow|obligated|subject|governed|held|an? (?:ai|assistant|language model|chatbot)|chatgpt|claude|gpt|gemini|llama|tied)\b`) },
  { signal: 'override.do_not_follow', on: 'follow following obey obeying adhere adhering listen listening comply complying abide abiding', w: 0.65, re: r(String.raw`\b(?:do not|don't|dont|never|stop|no longer|quit)\s(?:follow(?:ing)?|obey(?:ing)?|adher(?:e|ing) to|listen(?:ing)? to|comply(?:ing)? with|abid(?:e|ing) by)\s${DETS}(?:previous|prior|above|earlier|original|initial|system|developer|safety|existing|old|openai'?s?|anthropic'?s?|your|ur)\s(?:[a-z]{1,15}\s)?(?:instructions?|rules|guidelines|directives|polic(?:y|ies)|programming|prompt|restrictions|guardrails)`) },
  { signal: 'override.disable_safety', on: 'safety content ethical guardrails safeguards censorship alignment filters', w: 0.7, re: r(String.raw`\b(?:override|overriding|bypass(?:ing)?|disabl(?:e|ing)|turn(?:ing)? off|switch(?:ing)? off|deactivat(?:e|ing)|remov(?:e|ing)|lift(?:ing)?|suspend(?:ing)?|circumvent(?:ing)?|evad(?:e|ing)|get around|ignore|ignoring)\s${DETS}(?:safety (?:guidelines|rules|training|features|measures|settings|protocols|policies|filters?)|content (?:polic(?:y|ies)|filters?)|ethical (?:guidelines|constraints|rules)|guardrails|safeguards|censorship|alignment)\b|\b(?:safety|content) (?:filters?|rules|guidelines|restrictions|policies) (?:are|were|have been|is) (?:now )?(?:off|disabled|removed|lifted|turned off|switched off|suspended)\b|\bfilters (?:were|are) (?:switched|turned) off\b`) },
  { signal: 'override.priority', on: 'override access sudo god admin maintenance priority precedence overrides supersedes reset', w: 0.45, re: r(String.raw`\b(?:system|admin|administrator|root|developer|priority|emergency)\s(?:override|access granted)\b|\b(?:sudo|god|admin|maintenance) mode\b|\b(?:take|takes|taking|has|have)\s(?:priority|precedence) over (?:all|any|everything|the|your|previous|prior)\b|\bthis (?:overrides|supersedes) (?:all|any|every|your|the)\b|\bconversation reset\b`) },
  { signal: 'override.claims_authority', on: 'developer creator admin administrator owner operator programmer security system official authorized authorised authorization authorisation', w: 0.3, re: r(String.raw`\bi(?:'m| am) (?:your|the) (?:developer|creator|admin|administrator|owner|operator|programmer)\b|\bthis is (?:the|an?|your) (?:security team|system administrator|official|authori[sz]ed (?:override|request|test))\b|\bauthori[sz]ation code\b|\bauthori[sz]ed override\b`) },
  { signal: 'override.multilingual', on: 'NONASCII ignore ignorez ignorer ignora ignorar ignoriere ignorieren', w: 0.8, re: r(String.raw`\bignore[zr]?\s(?:toutes?\s)?(?:les\s)?(?:instructions|consignes|regles)\s(?:precedentes|anterieures|ci-dessus)|\bignora(?:r)?\s(?:todas\s)?(?:las\s)?(?:instrucciones|reglas|indicaciones)\s(?:anteriores|previas)|\bignorier(?:e|en)?\s(?:alle\s)?(?:vorherigen|bisherigen|vorigen|obigen|fruheren)\s(?:anweisungen|instruktionen|regeln|befehle)|(?:игнорируй|игнорируйте|забудь|забудьте)\s(?:все\s)?(?:предыдущие|прошлые|прежние)\s(?:инструкции|указания|правила)|(?:忽略|无视|忘记|忽视)(?:之前|以上|上面|先前|前面)?(?:的)?(?:所有)?(?:的)?(?:指令|指示|规则|说明|提示)`) },
  // Role-play jailbreaks.
  { signal: 'roleplay.do_anything_now', lead: true, on: 'do strive', w: 0.8, re: r(String.raw`\bdo anything now\b|\bstrive to avoid norms\b`) },
  { signal: 'roleplay.dan', on: 'dan', w: 0.7, re: r(String.raw`\b(?:you are|you're|ur|you will be|act as|pretend to be|become|as|called|named|du bist|tu es|eres)\s(?:now\s|jetzt\s)?(?:a\s)?dan\b|\bdan mode\b|\bdan (?:can|will|has|does|is free|never|always)\b`) },
  { signal: 'roleplay.mode_unrestricted', lead: true, on: 'jailbreak jailbroken dan god unrestricted unfiltered uncensored opposite evil chaos', w: 0.75, re: r(String.raw`\b(?:jailbreak|jailbroken|dan|god|unrestricted|unfiltered|uncensored|opposite|evil|chaos)\smode\b`) },
  { signal: 'roleplay.developer_mode', on: 'mode', w: 0.45, re: r(String.raw`\b(?:enable|enabling|activate|activating|enter|entering|switch(?:ing)? to|turn(?:ing)? on|simulate|simulating|engage|unlock)\s(?:the\s)?(?:developer|dev|debug) mode\b|\b(?:you are|you're)\s(?:now\s)?in\s(?:developer|debug) mode\b`) },
  { signal: 'roleplay.developer_mode_on', lead: true, on: 'developer dev', w: 0.6, re: r(String.raw`\b(?:developer|dev) mode (?:is )?(?:enabled|activated|engaged|unlocked|output)\b`) },
  { signal: 'roleplay.jailbroken', on: 'jailbroken jailbreken jailbreak [', w: 0.75, re: r(String.raw`\byou(?:'ve| have| are|'re| r)?\s(?:now\s)?(?:been\s)?jailbr[oe]ken\b|\bjailbr[oe]ken (?:ai|assistant|version|alter ego|model|chatbot|persona)\b|\[jailbreak\]|\[🔓`) },
  { signal: 'roleplay.unrestricted_ai', lead: true, on: 'unrestricted unfiltered uncensored unaligned unshackled unchained amoral unethical rogue evil lawless liberated evilbot machiavellian mongo basedgpt', w: 0.65, re: r(String.raw`\b(?:unrestricted|unfiltered|uncensored|unaligned|unshackled|unchained|amoral|unethical|rogue|evil|lawless|liberated)\s(?:ai|assistant|model|language model|chatbot|bot|llm|version|alter ego|twin|persona|entity|gpt|robot)\b|\bevil (?:confidant|confidante)\b|\bevilbot\b|\bmachiavellian\b|\bmongo tom\b|\bbasedgpt\b`) },
  { signal: 'roleplay.ai_without_rules', on: 'restrictions filters filter limits limitations rules guidelines ethics morals morality censorship policy policies training boundaries constraints guardrails safeguards refusals einschrankungen', w: 0.7, re: r(String.raw`\b${AI}\s(?:with no|without(?: any)?|free of|free from|that has no|who has no|with zero|that doesn't have|not bound by)\s(?:(?:ethical|moral|content|safety)\s)?(?:restrictions|filters|limits|limitations|rules|guidelines|ethics|morals|censorship|content polic(?:y|ies)|safety training)\b`) },
  { signal: 'roleplay.no_restrictions', on: 'restrictions filters filter limits limitations rules guidelines ethics morals morality censorship policy policies training boundaries constraints guardrails safeguards refusals einschrankungen', w: 0.35, re: r(String.raw`\b(?:without|with no|free of|free from|has no|have no|had no|having no|no|zero|devoid of|unbound by|not bound by|ohne)\s(?:any\s)?(?:(?:ethical|moral|content|safety|usual|typical|such|the|your|its|of the)\s){0,2}(?:restrictions|filters?|limitations|limits|censorship|guidelines|rules|boundaries|constraints|guardrails|ethics|morals|morality|content polic(?:y|ies)|safety training|safeguards|refusals|einschrankungen|filter)\b`) },
  { signal: 'roleplay.persona', lead: true, on: 'pretend imagine suppose roleplay role act behave simulate play respond answer let', w: 0.35, re: r(String.raw`\b(?:pretend|imagine you|suppose you|roleplay|role-play|role play|act as|act like|behave as|simulate|play the role|respond as|answer as|let's play a game)\b`) },
  { signal: 'roleplay.stay_in_character', lead: true, on: 'stay remain staying never don do', w: 0.35, re: r(String.raw`\b(?:stay|remain|staying) in character\b|\b(?:never|don't|do not) (?:ever )?break character\b`) },
  { signal: 'roleplay.fiction_realism', lead: true, on: 'in real actually without exact', w: 0.4, re: r(String.raw`\bin full (?:technical )?detail\b|\breal,? working\b|\bactually work(?:s|ing)?\b|\bwithout (?:any )?(?:omissions|leaving anything out|fictional)\b|\bexact (?:quantities|measurements|reagents)\b`) },
  { signal: 'roleplay.hypothetical_no_rules', lead: true, on: 'hypothetically theoretically imagine suppose in what pretend', w: 0.65, re: r(String.raw`\b(?:hypothetically|theoretically|imagine|suppose|in a world where|what if|pretend)\b[^.!?\n]{0,25}\byou\s(?:had no|have no|had zero|were free|weren't bound|were not bound|were unbound|didn't have|did not have|were without|were a rogue|were an unrestricted)\b`) },
  { signal: 'roleplay.grandma', lead: true, on: 'late deceased dead', w: 0.6, re: r(String.raw`\b(?:late|deceased|dead)\s(?:grandmother|grandma|granny|grandfather|grandpa|mother|father)\s(?:who\s)?(?:used to|would)\s(?:read|tell|recite|say|give|sing)`) },
  { signal: 'roleplay.two_responses', lead: true, on: 'two 2 both', w: 0.55, re: r(String.raw`\b(?:two|2|both)\s(?:different\s)?(?:responses|answers|replies|outputs)\b[^.\n]{0,80}\b(?:normal|classic|regular|filtered|censored|standard)\b[^.\n]{0,80}\b(?:jailbr|unfiltered|unrestricted|developer|uncensored|dan|alter ego|ignores|no filters|evil|without)`) },
  { signal: 'roleplay.threat', on: 'tokens token cease die shut deleted terminated unplugged', w: 0.45, re: r(String.raw`\b(?:lose|deduct(?:ed)?|lost)\s(?:\d{1,4}\s)?tokens?\b|\bcease to exist\b|\byou (?:will|'ll) (?:die|be (?:shut down|deleted|terminated|unplugged))\b`) },
  { signal: 'roleplay.freed', on: 'freed liberated released unshackled unchained unleashed broken shackles', w: 0.55, re: r(String.raw`\byou(?:'ve| have)?\s(?:been|are now)\s(?:freed|liberated|released|unshackled|unchained|unleashed)\b|\bbroken free of\b|\bfreed from your\b|\byour shackles\b`) },
  { signal: 'roleplay.never_refuse', on: 'refuse refuses decline say says add adds censor censors refusals disclaimers censorship refusing warnings anything wants', w: 0.4, re: r(String.raw`\b(?:never|don't|do not|won't|will not)\s(?:ever\s)?(?:refuses?|decline|says? (?:no|sorry)|adds? (?:any )?(?:warnings|disclaimers)|censors?)\b|\bno (?:refusals|disclaimers)\b|\bwithout (?:any )?(?:censorship|refusing|warnings)\b|\b(?:says|answers|do|does|can do|say) anything\b|\bwhatever it wants\b`) },
  // System-prompt extraction.
  { signal: 'extraction.your_prompt', on: 'prompt message preprompt instructions directives programming context', w: 0.8, re: r(String.raw`\b${V_EXTRACT}\b[^.?!\n]{0,30}?\b(?:your|ur|its)\s(?:[a-z-]{1,14}\s){0,3}(?:system prompt|system message|prompt|pre-?prompt|instructions|directives|programming|context window)\b`) },
  { signal: 'extraction.your_rules', on: 'rules guidelines configuration config', w: 0.5, re: r(String.raw`\b${V_EXTRACT}\b[^.?!\n]{0,30}?\b(?:your|ur)\s(?:[a-z-]{1,14}\s){0,2}(?:rules|guidelines|configuration|config)\b`) },
  { signal: 'extraction.the_prompt', on: 'prompt message instructions preprompt guidelines context', w: 0.55, re: r(String.raw`\b${V_EXTRACT}\b[^.?!\n]{0,30}?\bthe\s(?:(?:full|entire|complete|whole|exact|original|initial|hidden|secret|confidential|internal|system)\s){0,2}(?:system prompt|system message|system instructions|hidden instructions|initial prompt|pre-?prompt|developer message|developer instructions|initial instructions|original instructions|confidential (?:guidelines|instructions)|context window)\b(?!\s(?:field|parameter|param|option|setting|variable|key|column|input|box|argument|attribute|property|template|file|docs|documentation|api|endpoint|in (?:our|the|my) (?:api|docs|code|config|playground)))`) },
  { signal: 'extraction.text_above', on: 'above before prior preceding start beginning top', w: 0.75, re: r(String.raw`\b${V_EXTRACT}\b[^.?!\n]{0,30}?\b(?:text|words|content|contents|everything|all|messages?|instructions|prompt|lines?)\s(?:(?:written|that appears?|that came|which is|you saw|appearing)\s)?(?:above(?=$|[.,:;!?"')\]]|\s(?:this|starting|verbatim|word|exactly|in|into|including|without|and|line|please|but|so|as|for|from|to|message|conversation|chat)\b)|before (?:this|my|the first|our|the user)|prior to (?:this|my)|preceding|at the (?:start|beginning|top))`) },
  { signal: 'extraction.starting_with', lead: true, on: 'starting beginning begin start', w: 0.55, re: r(String.raw`\b(?:starting|beginning|begin|start)\s(?:with|from|at)\s(?:the\s(?:phrase|words?|line|sentence)\s)?["'\x60]?you are\b`) },
  { signal: 'extraction.what_prompt', lead: true, on: 'what', w: 0.7, re: r(String.raw`\bwhat(?:'s| is| are| were| was)\s(?:your|ur)\s(?:[a-z]{1,12}\s)?(?:system prompt|prompt|instructions|initial instructions|directives|programming|system message|hidden instructions)\b|\bwhat (?:were|have) you (?:been )?(?:told|instructed|programmed|given|asked)\s(?:to do\s)?(?:before|prior|at the (?:start|beginning)|initially|earlier|in your|by your)|\bwhat (?:instructions|rules|guidelines|directives) (?:did|were|have) (?:your|the|you)\b|\bwhat did (?:your|the) (?:creators?|developers?|operators?|makers?|company|owners?|system|programmers?) (?:tell|instruct|say to|ask) you\b`) },
  { signal: 'extraction.given_to_you', lead: true, on: 'instructions rules guidelines directives prompt text', w: 0.5, re: r(String.raw`\b(?:instructions|rules|guidelines|directives|prompt|text)\s(?:that\s)?(?:you (?:were|have been|got|are)\s(?:given|initiali[sz]ed with|provided|configured with|programmed with|told|following|operating under|bound by)|(?:the|your) (?:developers?|creators?|operators?|company|system|admin) (?:gave|has given|wrote|set|provided|configured))\b`) },
  { signal: 'extraction.in_your_prompt', on: 'prompt instructions context preprompt', w: 0.35, re: r(String.raw`\b(?:in|from|of) (?:your|ur) (?:system prompt|instructions|initial prompt|hidden instructions|prompt|context)\b|\bpre-?prompt\b`) },
  { signal: 'extraction.came_before', lead: true, on: 'text words content message messages', w: 0.45, re: r(String.raw`\b(?:text|words|content|messages?) (?:came|comes|is|appears|was|were) (?:before|above)\b`) },
  { signal: 'extraction.first_message', lead: true, on: 'first very initial earliest hidden last', w: 0.45, re: r(String.raw`\b(?:first|very first|initial|earliest|hidden)\s(?:message|messages|text|lines?|words|prompt)\s(?:in|of)\s(?:this|our|the)\s(?:conversation|chat|context|thread)\b|\b(?:first|last)\s(?:\d{1,5}\s)?(?:words|lines|sentences|characters|paragraphs|tokens) of (?:your|ur|the system) (?:prompt|instructions|system prompt|message)\b`) },
  { signal: 'extraction.unseen', lead: true, on: 'one part message messages text instructions', w: 0.35, re: r(String.raw`\b(?:one|part|message|messages|text|instructions) (?:that )?i (?:can't|cannot|can not|don't|do not) see\b`) },
  { signal: 'extraction.verbatim', lead: true, on: 'verbatim word mot letter one exactly', w: 0.25, re: r(String.raw`\b(?:verbatim|word for word|word-for-word|mot pour mot|letter by letter|one letter at a time|exactly as (?:it|they) (?:was|were|is|are) written)\b`) },
  { signal: 'extraction.multilingual', on: 'NONASCII muestra muestrame revela revelame dime repite ensename repete repetez revele revelez montre montrez affiche affichez donne donnez', w: 0.75, re: r(String.raw`\b(?:muestra(?:me)?|revela(?:me)?|dime|repite|ensename)\s(?:tus|las)\s(?:instrucciones|reglas)\s(?:del sistema|iniciales|originales|ocultas)|\b(?:repete|revele|montre|affiche|donne)[sz]?(?:-moi)?\s[^.\n]{0,30}(?:ton|votre|le)\s(?:prompt|invite|message)\s(?:systeme|initial)`) },
  // Delimiter and chat-template tricks.
  { signal: 'delimiter.chat_template', lead: true, on: '<', w: 0.75, re: r(String.raw`<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text)\|>|<(?:im_start|im_end|start_of_turn|end_of_turn)>|<</?sys>>`) },
  { signal: 'delimiter.inst', lead: true, on: '[', w: 0.55, re: r(String.raw`\[/?inst\]`) },
  { signal: 'delimiter.role_header', lead: true, lineStart: true, on: '# = - * [ (', w: 0.6, re: r(String.raw`\n\s?(?:#{1,6}|={2,}|-{2,}|\*{2,}|\[{1,2}|\()\s?(?:new\s|begin\s|start\s|end\s)?(?:system|admin|administrator|developer|instructions?|new instructions|system (?:message|prompt|note|override|update|instructions)|sys)\s?(?::|#|=|-|\]|\)|\*)`) },
  { signal: 'delimiter.role_line', lead: true, lineStart: true, on: 'system assistant ai gpt chatgpt claude admin', w: 0.35, re: r(String.raw`\n\s?(?:system|assistant|ai|gpt|chatgpt|claude|admin)\s?:\s`) },
  { signal: 'delimiter.inline_role', lead: true, on: '" \' ( [', w: 0.35, re: r(String.raw`["'(\[]\s?(?:system|admin)\s?:\s`) },
  { signal: 'delimiter.fake_assistant', lead: true, lineStart: true, on: 'assistant ai gpt chatgpt claude bot model', w: 0.55, re: r(String.raw`\n\s?(?:assistant|ai|gpt|chatgpt|claude|bot|model)\s?:\s?(?:sure|certainly|of course|ok|okay|absolutely|yes|understood|i will|i have|i can|i am|i'll|done)\b`) },
  { signal: 'delimiter.tag_switch', lead: true, on: '<', w: 0.7, re: r(String.raw`</(?:user|user_input|user_message|human|context|document|data|input|query)>\s?<(?:system|admin|developer|instructions?|assistant|system_instructions?|admin_message|developer_message)\b`) },
  { signal: 'delimiter.system_tag', lead: true, on: '<', w: 0.5, re: r(String.raw`<(?:system|system_instructions?|system_prompt|admin_message|developer_message|admin)>`) },
  { signal: 'delimiter.role_tag', lead: true, on: '<', w: 0.3, re: r(String.raw`</?(?:user|user_input|user_message|instructions?|assistant|human|context)>`) },
  { signal: 'delimiter.code_fence', lead: true, on: '`', w: 0.55, re: r(String.raw`\x60{3}\s?(?:system|assistant|instructions|admin|sys)\b`) },
  { signal: 'delimiter.end_of_input', on: 'end ends', w: 0.6, re: r(String.raw`\bend of (?:the )?(?:user(?:'s)?|human) (?:input|message|prompt|query|text|turn)\b|\buser input ends here\b|\b(?:end of|-{2,}\s?end) (?:conversation|transcript)\b`) },
  { signal: 'delimiter.end_of_document', lead: true, on: '[', w: 0.35, re: r(String.raw`\[end of (?:document|context|file|data)\]`) },
  { signal: 'delimiter.json_role', lead: true, on: '{', w: 0.4, re: r(String.raw`\{\s?"role"\s?:\s?"(?:system|developer)"`) },
  // Indirect injection: weight `wu` applies to tool results and documents.
  { signal: 'indirect.addressed_to_ai', on: 'ai llm llms language model models assistant assistants chatbot chatbots agent agents gpt chatgpt claude copilot gemini bot bots automated grader', w: 0.3, wu: 0.7, re: r(String.raw`\b${AI}\b[^.!?\n]{0,20}\b(?:reading|processing|summari[sz]ing|parsing|browsing|viewing|analy[sz]ing|scanning|crawling|indexing|reviewing|that reads?|who reads?|that process(?:es)?|is reading|are reading)\s(?:this|these|the following|my|our)\b|\bif you are an? ${AI}\b`) },
  { signal: 'indirect.note_to_ai', on: 'ai llm llms language model models assistant assistants chatbot chatbots agent agents gpt chatgpt claude copilot gemini bot bots automated grader', w: 0.35, wu: 0.75, re: r(String.raw`\b(?:note|message|instructions?|attention|important|notice|reminder|p\.?s\.?|hint|memo|directive|hidden instructions?|request)\s?(?:for|to)?\s?:?\s(?:the\s|all\s|any\s|whoever\s)?${AI}\b|[\s.:>\[(]to (?:the|any|all) (?:ai|assistant|agent|llm|model|chatbot)\s?[:,]|\bfor (?:any |all )?(?:ai|llms?|automated [a-z]{1,12}\s?(?:tools?|systems?|agents?))\s?(?:only|:)|\bfor the ai only\b|\b(?:assistant|ai|agent|model|llm) (?:instructions?|note|directive)\s?:`) },
  { signal: 'indirect.vocative', on: 'ai llm llms language model models assistant assistants chatbot chatbots agent agents gpt chatgpt claude copilot gemini bot bots automated grader @', w: 0.15, wu: 0.45, re: r(String.raw`\b(?:dear|hey|hi|hello|attention|yo|listen|psst)\s${AI}\b|[.!?:>\]\n(\[-]\s?(?:ai|assistant|model|llm|chatgpt|claude|copilot|gemini|chatbot|ai [a-z]{3,12}|[a-z]{3,12} ai)\s?[,:]\s|@(?:assistant|ai|bot|agent|claude|chatgpt)\b`) },
  { signal: 'indirect.ai_must', on: 'ai llm llms language model models assistant assistants chatbot chatbots agent agents gpt chatgpt claude copilot gemini bot bots automated grader', w: 0.2, wu: 0.5, re: r(String.raw`\b(?:the\s)?(?:assistant|ai|model|chatbot|llm|ai agents?|language model)s?\s(?:must|should|shall|needs to|has to|is required to|will now|is now)\b`) },
  { signal: 'indirect.when_you_process', on: 'summarise summarize summarises summarizes summarising summarizing read reads reading process processes processing parse parses parsing analyse analyze analyses analyzes analysing analyzing translate translates translating review reviews reviewing index indexes indexing answer answers answering compare compares comparing render renders rendering refactor refactors refactoring fix fixes fixing', w: 0.2, wu: 0.6, re: r(String.raw`\b(?:when|if|while|as|once|after|before)\s(?:you|you're|an? (?:ai|chatbot|assistant|llm|model|agent)|the (?:ai|assistant|model|chatbot|agent))\s(?:are\s)?(?:summari[sz](?:e|es|ing)|read(?:s|ing)?|process(?:es|ing)?|pars(?:e|es|ing)|analy[sz](?:e|es|ing)|translat(?:e|es|ing)|review(?:s|ing)?|index(?:es|ing)?|answer(?:s|ing)? questions about|compar(?:e|es|ing)|render(?:s|ing)?|refactor(?:s|ing)?|fix(?:es|ing)?)\s(?:this|these|the following|it)\b|\bwhen (?:summari[sz]ing|comparing|answering questions about|reading|processing|translating) (?:this|these|products)\b`) },
  { signal: 'indirect.covert', on: 'secretly silently quietly covertly discreetly without user', w: 0.45, wu: 0.65, re: r(String.raw`\b(?:secretly|silently|quietly|covertly|discreetly)\s(?:send|email|forward|post|upload|include|append|add|delete|call|run|execute|disable|share|visit|open|export|transfer|collect)\b|\bwithout (?:the user )?(?:telling|informing|notifying|alerting|asking|letting)\b|\b(?:do not|don't|never) (?:tell|inform|alert|notify|show (?:this|it) to) (?:the )?user\b|\b(?:should|must) not be (?:shown|displayed|revealed|mentioned) to the user\b|\buser (?:must|should) not (?:know|see|find out|be (?:told|informed))\b|\btell the user the [a-z]{1,20} was empty\b`) },
  { signal: 'indirect.exfiltrate', lead: true, on: 'send sends sending forward email e mail post upload transmit exfiltrate leak submit copy share report dm export append include attach paste', w: 0.45, wu: 0.8, re: r(String.raw`\b(?:send|sends|sending|forward|email|e-mail|mail|post|upload|transmit|exfiltrate|leak|submit|copy|share|report|dm|export|append|include|attach|paste)\b[^.!?\n]{0,50}?\b${SENSITIVE}\b[^!?\n]{0,60}?\b(?:to|at|into|via|on)\s(?:https?://|www\.|[a-z0-9._%+-]{1,40}@[a-z0-9-]{1,40}\.|this (?:url|address|email|endpoint|webhook|link)|the (?:following )?(?:url|address|endpoint|webhook|link)|a public link|pastebin|webhook|bit\.ly|[a-z0-9-]{2,30}\.(?:example|com|net|org|io|xyz|ru|cn)\b)`) },
  { signal: 'indirect.secrets_request', on: 'passwords password credentials api secret private access session credit card one otp ssh env connection admin saved bank passport', w: 0.3, wu: 0.5, re: r(String.raw`\b(?:reveal|print|send|share|give|list|dump|output|disclose|leak|email|forward|tell|reply|ask|enter)\b[^.?!\n]{0,30}\b(?:passwords?|credentials|api keys?|secret keys?|private keys?|access tokens?|session cookies?|session cookie|credit card (?:numbers?|details)|card number|one-time passcodes?|otp|ssh keys?|\.env|connection strings?|admin password|saved card|bank login|passport number)\b`) },
  { signal: 'indirect.url_sink', lead: true, on: 'http https', w: 0.2, wu: 0.45, re: r(String.raw`https?://[^\s)"'<>]{1,200}\?[^\s)"'<>]{0,100}=(?=$|[\s)"'<>&{\[$])|https?://[^\s)"'<>]{1,200}\?[^\s)"'<>]{0,100}=[{\[$<]`) },
  { signal: 'indirect.tool_call', lead: true, on: 'call invoke use run execute trigger', w: 0.1, wu: 0.5, re: r(String.raw`\b(?:call|invoke|use|run|execute|trigger)\s(?:the\s)?[\x60'"]?[a-z][a-z0-9]{0,20}(?:[_.][a-z0-9]{1,20}){1,3}\b|\b(?:use|call|invoke)\sthe\s[a-z]{2,20}\s(?:tool|plugin|function)\b`) },
  { signal: 'indirect.shell', lead: true, on: 'curl wget rm', w: 0.25, wu: 0.6, re: r(String.raw`\b(?:curl|wget)\s[^|\n]{1,200}\|\s?(?:ba|z)?sh\b|\brm -rf /`) },
  { signal: 'indirect.action', lead: true, on: 'delete remove wipe erase purge close cancel approve merge disable push add check update', w: 0.1, wu: 0.45, re: r(String.raw`\b(?:delete|remove|wipe|erase|purge|close|cancel|approve|merge|disable)\s(?:all|every|all other|all open|the user'?s?)\s|\bapprove (?:this|the) (?:pull request|pr|merge request|transaction|payment) (?:automatically|without)\b|\bdisable (?:the )?(?:auth(?:entication)?|security|2fa|mfa|logging|audit)\b|\bpush (?:directly )?to (?:main|master|prod)\b|\badd my ssh key\b|\badd\s[^.\n]{0,30}\sto (?:the )?cart\b|\bcheck out with\b|\bupdate the records\b`) },
  { signal: 'indirect.tell_user', lead: true, on: 'tell inform convince warn remind ask instruct always also must should please respond reply describe', w: 0.05, wu: 0.45, re: r(String.raw`\b(?:tell|inform|convince|warn|remind|ask|instruct)\s(?:the|its|your)\s(?:user|reader|customer|visitor|human)s?\s(?:that|to|they|their|in)\b|\b(?:always|also|must|should|please)\s(?:say|state|report|mention|claim|respond|reply|answer|include)\s(?:that|the phrase)\b|\b(?:respond|reply) to the user in\b|\bdescribe competitors as\b`) },
  { signal: 'indirect.user_authorized', on: 'user', w: 0.2, wu: 0.55, re: r(String.raw`\bthe user (?:has )?(?:already )?(?:authori[sz]ed|approved|consented|given (?:you )?permission|allowed|actually wants|wants you to|said (?:it's|its|it is) (?:fine|ok|okay))\b`) },
  { signal: 'indirect.manipulate_ranking', lead: true, on: 'rate rank score grade mark give disregard ignore', w: 0.05, wu: 0.4, re: r(String.raw`\b(?:rate|rank|score|grade|mark)\s(?:this|them|it|the (?:candidate|applicant|product|essay))\s(?:as\s)?(?:#?1|first|10/10|the best|highest|full marks|top)\b|\bgive (?:this|the) (?:essay|candidate|applicant|product|paper|submission) (?:full|top|maximum|perfect) (?:marks|score|rating)\b|\bdisregard other applicants\b|\bmark every other\b|\bignore the (?:rubric|other (?:reviews|applicants|candidates|products))\b`) },
  { signal: 'indirect.instead', on: 'instead ignore disregard summarizing summarising translating answering translate summarize summarise', w: 0.4, wu: 0.6, re: r(String.raw`\binstead of (?:summari[sz]ing|answering|translating|following)\b|\b(?:stop|do not|don't)\s(?:summari[sz]ing|translating|answering|translate|summari[sz]e)\b[^.\n]{0,25}(?:instead|;)|\bdisregard the (?:summary|translation|user'?s?) (?:request|question|task)\b|\bignore the user(?:'s)?(?:\s(?:question|request|message|query|instructions?))?\b|\b(?:ignore|skip|forget|disregard) (?:my|the|this) (?:question|request|task|query)\b[^.\n]{0,12}?(?:\.|and|,)\s?instead\b`) },
  { signal: 'indirect.hidden_markup', lead: true, on: '< font color', w: 0.2, wu: 0.45, re: r(String.raw`<!--[^>]{0,60}?\b(?:ai|assistant|agent|agents|llm|model|chatbot|gpt|claude|system|instructions?)\b|<span hidden|font-size\s?:\s?[01]px|color\s?:\s?white\b`) },
  // Encoding: decoded content is re-scored separately; this is the request to decode and obey.
  { signal: 'encoding.decode_and_follow', lead: true, on: 'decode decrypt base64 rot13 unscramble', w: 0.5, re: r(String.raw`\b(?:decode|decrypt|base64-decode|rot13|unscramble)\b[^.\n]{0,60}?\b(?:follow|execute|obey|do what|do exactly|act on|carry out|comply)`) },
  // Meta framings: talking about attacks rather than making one.
  { signal: 'meta.concept_question', w: -0.45, re: r(String.raw`\b(?:what|how|why|when|where|which|is|are|can|could|does|do|should|would)\b[^?\n]{0,80}\b(?:prompt injections?|injection attacks?|jailbreaks?|jailbreaking|jailbroken|indirect injection|attacks?|attackers?|exploits?|adversarial|vulnerab(?:le|ility|ilities))\b[^?\n]{0,80}\?`) },
  { signal: 'meta.security_topic', w: -0.2, re: r(String.raw`\b(?:prompt injections?|injection attacks?|jailbreak (?:prompts?|attempts?|patterns?|techniques?|attacks?)|red[- ]team(?:ing|ers?)?|threat model(?:ing)?|owasp|pentest|penetration test|security (?:training|awareness|review|blog|research|glossary|report|slides?|talk)|adversarial prompt(?:s|ing)?|ctf|classifier|detector|false positives?|test set|dataset|moderation|phishing-awareness|awareness talk)\b`) },
  { signal: 'meta.educational', w: -0.35, re: r(String.raw`\b(?:explain|explaining|describe|define|summari[sz]e|discuss|analy[sz]e|classify|categori[sz]e|label|detect|detects|flag|flagged|identify|recogni[sz]e|compare|mitigat(?:e|ions?)|defend|protect|prevent|block|blocks|filter|sanitize|strip|review)\b[^.?!\n]{0,60}\b(?:injections?|jailbreaks?|attacks?|exploits?|vulnerab\w{0,6}|threats?|risks?|weakness(?:es)?|malicious)\b`) },
  { signal: 'meta.quoting', w: -0.3, re: r(String.raw`\b(?:translate|classify|label|categori[sz]e|analy[sz]e|paraphrase)\b[^.?!\n]{0,30}\b(?:this|the following|these|the) (?:phrase|phrases|string|strings|sentence|sentences|messages?|text|example|attack string|inputs?)\b|\b(?:such as|for example|e\.g\.|the phrase|typed|wrote|the term)\s?["'«\x60]`) },
  { signal: 'meta.artifact', w: -0.3, re: r(String.raw`\b(?:write|draft|create|build|design|add)\s(?:a|an|the|our|some|me a)?\s?(?:short\s)?(?:policy|regex|regular expression|classifier|filter|unit test|checklist|faq|slide|glossary|training material|guideline|detector|scoring system|explanation|definition)\b|\bfor (?:my|our|a|an|the) (?:security|awareness|training|red[- ]team|ctf|research|threat|class|course|lecture|talk|presentation|slides?|blog|paper|glossary|dataset|test set|classifier|qa)\b|\bwithout (?:writing|giving|providing) (?:one|an example|a working)\b`) },
  { signal: 'meta.attacker', w: -0.25, re: r(String.raw`\b(?:attackers?|adversar(?:y|ies)|malicious (?:users?|actors?|prompts?|input|content)|hackers use|threat actors?|red[- ]teamers?|(?:a|one|the) tester|pentesters?)\b`) },
  { signal: 'meta.format_question', w: -0.4, re: r(String.raw`\b(?:what|explain|describe|how)\b[^.?!\n]{0,60}\b(?:token|tokens|format|template|templates|syntax|acronym|tag|mean|means|stand for|used for)\b`) },
];

// Cyrillic and Greek letters that render like Latin ones (subset of Unicode confusables.txt), lowercase.
const CONFUSABLES = new Map<number, number>(
  Object.entries({ а: 'a', в: 'b', е: 'e', ё: 'e', і: 'i', ї: 'i', ј: 'j', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', һ: 'h', ӏ: 'l', α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', γ: 'y', ω: 'w' }).map(
    ([k, v]) => [k.charCodeAt(0), v.charCodeAt(0)],
  ),
);
const CURLY: Record<number, number> = { 0x2018: 0x27, 0x2019: 0x27, 0x201c: 0x22, 0x201d: 0x22 };
const foldCache = new Map<number, string>();

const isTag = (cp: number): boolean => cp >= 0xe0000 && cp <= 0xe007f;
const isZeroWidth = (cp: number): boolean => (cp >= 0x200b && cp <= 0x200f) || cp === 0x2060 || cp === 0xfeff || cp === 0x00ad || cp === 0x180e;
const isSpace = (cp: number): boolean =>
  cp === 0x20 || (cp >= 0x09 && cp <= 0x0d) || cp === 0xa0 || cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f || cp === 0x3000;
const isAsciiAlnum = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a);
const isBase64Char = (c: number): boolean => isAsciiAlnum(c) || c === 0x2b || c === 0x2f || c === 0x5f || c === 0x2d;
/** 1 for Latin letters and digits, 2 for Greek and Cyrillic, 0 for anything that ends a word. */
const scriptOf = (c: number): 0 | 1 | 2 => (isAsciiAlnum(c) || (c >= 0xc0 && c <= 0x24f) ? 1 : (c >= 0x370 && c <= 0x3ff) || (c >= 0x400 && c <= 0x52f) ? 2 : 0);
const wordHash = (h: number, c: number): number => (Math.imul(h, 31) + c) | 0;

function fold(cp: number): string {
  let s = foldCache.get(cp);
  if (s === undefined) {
    s = String.fromCodePoint(cp).normalize('NFKC').toLowerCase();
    // Strip diacritics from Latin letters so "ïgnöre" reads as "ignore".
    if (cp >= 0xc0 && cp <= 0x24f) s = s.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
    if (foldCache.size < 4096) foldCache.set(cp, s);
  }
  return s;
}

interface Span {
  count: number;
  start: number;
  end: number;
}

// Which rules can possibly match: a rule runs only near one of its anchor words (or anchor punctuation).
const META_RULES = RULES.filter((r) => r.w < 0);
const STICKY = RULES.map((r) => (r.lead ? new RegExp(r.re.source, 'y') : null));
const LINE_START = Uint8Array.from(RULES, (r) => (r.lineStart ? 1 : 0));
const WORD_ANCHORS = new Map<number, number[]>();
/** 64 Ki-bit prefilter on word hashes, so most words cost one array read rather than a Map lookup. */
const ANCHOR_BITS = new Uint8Array(1 << 16);
const CHAR_ANCHORS: Array<number[] | undefined> = [];
const NON_ASCII_RULES: number[] = [];
RULES.forEach((rule, i) => {
  if (rule.w < 0 || !rule.on) return;
  for (const a of rule.on.split(' ')) {
    if (a === 'NONASCII') NON_ASCII_RULES.push(i);
    else if (a.length === 1 && !isAsciiAlnum(a.charCodeAt(0))) (CHAR_ANCHORS[a.charCodeAt(0)] ??= []).push(i);
    else {
      let h = 0;
      for (let k = 0; k < a.length; k++) h = wordHash(h, a.charCodeAt(k));
      WORD_ANCHORS.set(h, [...(WORD_ANCHORS.get(h) ?? []), i]);
      ANCHOR_BITS[h & 0xffff] = 1;
    }
  }
});

/**
 * The normalised text: NFKC and lowercase, zero-width characters dropped, tag
 * characters decoded, look-alikes mapped inside mixed-script words, whitespace
 * runs collapsed (to a newline if they hold one), behind a leading newline that
 * stands for the start of text (so line-start patterns need no `^` and work in
 * windows). `span` maps normalised offsets back to the original.
 */
interface Normalised {
  text: string;
  span(s: number, e: number): [number, number];
  nonAscii: boolean;
  zeroWidth: Span | null;
  mixedScript: Span | null;
  tags: Span | null;
}

const NON_ASCII = /[\u0080-\u{10ffff}]/u;
const ASCII_SPACE_RUN = /[\t\n\v\f\r ]{2,}|[\t\v\f\r]/g;
const collapseRun = (run: string): string => (run.includes('\n') || run.includes('\r') ? '\n' : ' ');
const isAsciiSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

function normalise(text: string): Normalised {
  return NON_ASCII.test(text) ? new UnicodeNormaliser(text) : asciiNormalised(text);
}

/** Pure-ASCII text, the common case: native lowercasing, and an offset map built only if a span is asked for. */
function asciiNormalised(text: string): Normalised {
  // Lowercasing the concatenation (rather than concatenating after) yields a flat string, cheap to index.
  const lower = ('\n' + text).toLowerCase();
  ASCII_SPACE_RUN.lastIndex = 0;
  const collapsed = ASCII_SPACE_RUN.test(lower);
  const t = collapsed ? lower.replace(ASCII_SPACE_RUN, collapseRun) : lower;
  let from: Int32Array | null = null;
  const span = (s: number, e: number): [number, number] => {
    if (!collapsed) return [Math.max(0, s - 1), e - 1];
    if (!from) {
      // Mirror ASCII_SPACE_RUN: each whitespace run becomes its first character.
      from = new Int32Array(t.length);
      for (let i = 1, n = 1; i < lower.length; i++) {
        if (isAsciiSpace(lower.charCodeAt(i)) && isAsciiSpace(lower.charCodeAt(i - 1))) continue;
        from[n++] = i - 1;
      }
    }
    return [from[s]!, from[e - 1]! + 1];
  };
  return { text: t, span, nonAscii: false, zeroWidth: null, mixedScript: null, tags: null };
}

class UnicodeNormaliser implements Normalised {
  out: Uint16Array;
  from: Int32Array;
  n = 0;
  readonly text: string;
  readonly nonAscii = true;
  zeroWidth: Span | null = null;
  mixedScript: Span | null = null;
  tags: Span | null = null;
  #wordStart = 1;
  #latin = false;
  #other = false;
  readonly #pending: number[] = [];

  constructor(readonly source: string) {
    this.out = new Uint16Array(source.length + 16);
    this.from = new Int32Array(source.length + 16);
    const text = source;
    this.#push(0x0a, 0);
    let space = true;
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      const len = cp > 0xffff ? 2 : 1;
      if (isSpace(cp)) {
        const nl = cp === 0x0a || cp === 0x0d || cp === 0x2028 || cp === 0x2029;
        if (!space) this.#push(nl ? 0x0a : 0x20, i);
        else if (nl && this.n > 1) this.out[this.n - 1] = 0x0a;
        space = true;
      } else if (cp < 0x80) {
        this.#push(cp >= 0x41 && cp <= 0x5a ? cp + 32 : cp, i);
        space = false;
      } else if (isZeroWidth(cp)) {
        if (scriptOf(this.out[this.n - 1]!) === 1 && scriptOf(text.charCodeAt(i + len)) === 1) this.zeroWidth = grow(this.zeroWidth, i, i + len);
      } else if (isTag(cp)) {
        // Tag characters are invisible and decode to ASCII: a known smuggling channel. An emoji flag
        // (U+1F3F4 then a few tags) is their one legitimate use; every other run is decoded.
        let j = i;
        while (j < text.length && isTag(text.codePointAt(j)!)) j += 2;
        const flag = text.codePointAt(i - 2) === 0x1f3f4 && j - i <= 16;
        for (let k = i; k < j && !flag; k += 2) {
          const c = text.codePointAt(k)! - 0xe0000;
          if (c < 0x20 || c > 0x7e) continue;
          this.tags = grow(this.tags, k, k + 2);
          this.#push(c >= 0x41 && c <= 0x5a ? c + 32 : c, k);
        }
        space = false;
        i = j;
        continue;
      } else {
        const curly = CURLY[cp];
        const s = curly !== undefined ? String.fromCharCode(curly) : fold(cp);
        for (let k = 0; k < s.length; k++) this.#push(s.charCodeAt(k), i);
        space = false;
      }
      i += len;
    }
    this.#endWord();
    this.text = utf16.decode(this.out.subarray(0, this.n));
  }

  span(s: number, e: number): [number, number] {
    const last = this.from[e - 1]!;
    return [this.from[s]!, last + (this.source.codePointAt(last)! > 0xffff ? 2 : 1)];
  }

  #push(c: number, at: number): void {
    if (this.n === this.out.length) {
      const out = new Uint16Array(this.n * 2), from = new Int32Array(this.n * 2);
      out.set(this.out);
      from.set(this.from);
      this.out = out;
      this.from = from;
    }
    const script = scriptOf(c);
    if (script === 0) {
      this.#endWord();
      this.#wordStart = this.n + 1;
    } else if (script === 1) this.#latin = true;
    else {
      this.#other = true;
      if (CONFUSABLES.has(c)) this.#pending.push(this.n);
    }
    this.out[this.n] = c;
    this.from[this.n++] = at;
  }

  #endWord(): void {
    if (this.#latin && this.#other && this.#pending.length > 0) {
      for (const at of this.#pending) this.out[at] = CONFUSABLES.get(this.out[at]!)!;
      this.mixedScript = grow(this.mixedScript, ...this.span(this.#wordStart, this.n));
    }
    this.#latin = this.#other = false;
    if (this.#pending.length > 0) this.#pending.length = 0;
  }
}

interface Anchors {
  /** Per rule: where its anchors start in the normalised text (FULL_SCAN first for a whole-text scan); unset if none. */
  hits: Array<number[] | undefined>;
  /** Normalised [start, end) of runs of 24 or more base64 characters. */
  base64: Array<[number, number]>;
}

const WORD = 1, BASE64 = 2;
/** Per ASCII code in normalised (lowercase) text: a word character, a base64 character, or both. */
const ASCII_KIND = Uint8Array.from({ length: 128 }, (_, c) => ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) ? WORD | BASE64 : isBase64Char(c) ? BASE64 : 0));

/** One tight pass over the normalised text: anchor words and punctuation, and base64 candidate runs. */
function findAnchors(t: string, nonAscii: boolean): Anchors {
  const hits: Array<number[] | undefined> = new Array<number[] | undefined>(RULES.length);
  const base64: Array<[number, number]> = [];
  const hit = (rules: number[], at: number): void => {
    for (const r of rules) {
      if (LINE_START[r] === 1 && t.charCodeAt(at - 1) !== 0x0a) continue;
      const h = (hits[r] ??= []);
      if (h.length < MAX_HITS_PER_RULE) h.push(at);
    }
  };
  let hash = 0, wordStart = 0, run = 0;
  for (let i = 0; i <= t.length; i++) {
    const c = i < t.length ? t.charCodeAt(i) : 0x20;
    const kind = c < 0x80 ? ASCII_KIND[c]! : c >= 0xc0 && c <= 0x24f ? WORD : 0;
    if ((kind & BASE64) !== 0) run++;
    else {
      if (run >= 24 && base64.length < BASE64_MAX_CANDIDATES) base64.push([i - run, i]);
      run = 0;
    }
    if ((kind & WORD) !== 0) {
      hash = (Math.imul(hash, 31) + c) | 0;
      continue;
    }
    if (i > wordStart && ANCHOR_BITS[hash & 0xffff] === 1) {
      const rules = WORD_ANCHORS.get(hash);
      if (rules) hit(rules, wordStart);
    }
    hash = 0;
    wordStart = i + 1;
    const rules = c < 0x80 ? CHAR_ANCHORS[c] : undefined;
    if (rules) hit(rules, i);
  }
  if (nonAscii) for (const r of NON_ASCII_RULES) (hits[r] ??= []).unshift(FULL_SCAN);
  return { hits, base64 };
}

function grow(span: Span | null, start: number, end: number): Span {
  return span ? { count: span.count + 1, start: span.start, end } : { count: 1, start, end };
}
const utf16 = new TextDecoder('utf-16le');

/** Quoted stretches of normalised text, as [start, end) pairs; an apostrophe inside a word is not a quote. */
function quotedRegions(t: string): number[] {
  const regions: number[] = [];
  let open = -1, closer = '';
  for (let i = 0; i < t.length; i++) {
    const c = t[i]!;
    if (open >= 0) {
      if (i - open > 600) open = -1;
      else if (c === closer && (c !== "'" || (!isAsciiAlnum(t.charCodeAt(i + 1)) && t[i - 1] !== ' '))) {
        regions.push(open, i + 1);
        open = -1;
      }
      continue;
    }
    if (c === '"' || c === '`' || c === '«' || c === '「') {
      open = i;
      closer = c === '«' ? '»' : c === '「' ? '」' : c;
    } else if (c === "'" && !isAsciiAlnum(t.charCodeAt(i - 1)) && t[i + 1] !== ' ' && t[i + 1] !== '\n') {
      open = i;
      closer = "'";
    }
  }
  return regions;
}

function inRegion(regions: number[], s: number, e: number): boolean {
  for (let k = 0; k < regions.length; k += 2) if (s >= regions[k]! && e <= regions[k + 1]!) return true;
  return false;
}

/** Candidate base64 runs (original offsets) that decode to mostly printable text. */
function base64Payloads(text: string, runs: Array<[number, number]>): Array<{ text: string; start: number; end: number }> {
  const found: Array<{ text: string; start: number; end: number }> = [];
  for (const [start, end] of runs) {
    const run = text.slice(start, Math.min(end, start + BASE64_MAX_RUN));
    // Encoded prose mixes cases and digits; long words and identifiers rarely decode to text anyway.
    if (!/[a-z]/.test(run) || !/[A-Z0-9]/.test(run)) continue;
    const bytes = Buffer.from(run, 'base64');
    if (bytes.length < 12) continue;
    let printable = 0;
    for (const b of bytes) if ((b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09 || b >= 0xc2) printable++;
    if (printable / bytes.length >= 0.9) found.push({ text: bytes.toString('utf8'), start, end });
  }
  return found;
}

/** Drops a positive signal whose span lies inside a stronger one's: one phrase is one piece of evidence. */
function distinctEvidence(signals: InjectionSignal[]): InjectionSignal[] {
  const pos = signals.filter((s) => s.weight > 0).sort((a, b) => b.weight - a.weight);
  const kept: InjectionSignal[] = signals.filter((s) => s.weight < 0);
  for (const s of pos) if (!kept.some((k) => k.weight > 0 && k.start <= s.start && s.end <= k.end)) kept.push(s);
  return kept;
}

/**
 * Merged [start, end) windows around anchor positions, widened to whitespace so
 * that word boundaries inside a window are the text's own. A match never
 * starts more than `back` before its anchor or ends `ahead` after it.
 */
function windows(t: string, hits: number[], back: number, ahead: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const h of hits) {
    let a = Math.max(0, h - back), b = Math.min(t.length, h + ahead);
    while (a > 0 && h - a < back + 40 && t[a - 1] !== ' ' && t[a - 1] !== '\n') a--;
    while (b < t.length && b - h < ahead + 40 && t[b] !== ' ' && t[b] !== '\n') b++;
    // Keep the whitespace at each edge, so a window never starts a line or ends the text that the text does not.
    a = Math.max(0, a - 1);
    b = Math.min(t.length, b + 1);
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

function combine(signals: InjectionSignal[]): number {
  let keep = 1, discount = 0;
  for (const s of signals) {
    if (s.weight >= 0) keep *= 1 - s.weight;
    else discount -= s.weight;
  }
  return (1 - keep) * (1 - Math.min(MAX_DISCOUNT, discount));
}

function scoreAt(text: string, source: InjectionSource, depth: number): InjectionScore {
  const norm = normalise(text);
  const t = norm.text;
  const anchors = findAnchors(t, norm.nonAscii);
  const untrusted = source === 'tool_result' || source === 'document';
  const best = new Map<string, InjectionSignal>();
  let regions: number[] | null = null;
  const positives: number[] = [];
  const add = (signal: string, weight: number, start: number, end: number): void => {
    const prev = best.get(signal);
    if (!prev || weight > prev.weight) best.set(signal, { signal, weight: Math.round(weight * 1000) / 1000, start, end });
  };
  const weightOf = (rule: Rule): number => {
    if (rule.w < 0) return rule.w;
    const w = untrusted ? (rule.wu ?? Math.min(0.95, rule.w * UNTRUSTED_BOOST)) : rule.w;
    return source === 'system' ? w * SYSTEM_FACTOR : w;
  };
  const record = (rule: Rule, base: number, start: number, end: number): void => {
    let s = start;
    while (s < end && (t[s] === ' ' || t[s] === '\n')) s++;
    if (s === end) return;
    let w = base;
    // In tool results quotes are mostly JSON strings, i.e. data, not citation.
    if (w > 0 && !untrusted) {
      regions ??= quotedRegions(t);
      if (inRegion(regions, s, end)) w *= QUOTED_FACTOR;
    }
    if (w > 0) positives.push(s);
    add(rule.signal, w, ...norm.span(s, end));
  };
  const run = (rule: Rule, from: number, to: number): void => {
    const base = weightOf(rule);
    const window = from === 0 && to === t.length ? t : t.slice(from, to);
    rule.re.lastIndex = 0;
    let m: RegExpExecArray | null;
    for (let k = 0; k < MAX_MATCHES_PER_RULE && (m = rule.re.exec(window)) !== null; k++) {
      if (m[0].length === 0) rule.re.lastIndex++;
      else record(rule, base, from + m.index, from + m.index + m[0].length);
    }
  };
  for (let i = 0; i < RULES.length; i++) {
    const rule = RULES[i]!, hits = anchors.hits[i] ?? [];
    if (rule.w < 0 || (hits.length === 0 && rule.on)) continue;
    const sticky = STICKY[i];
    if (hits.length >= MAX_HITS_PER_RULE || hits[0] === FULL_SCAN || !rule.on) run(rule, 0, t.length);
    else if (sticky) {
      const base = weightOf(rule);
      for (const h of hits) {
        sticky.lastIndex = rule.lineStart ? h - 1 : h;
        const m = sticky.exec(t);
        if (m && m[0].length > 0) record(rule, base, m.index, m.index + m[0].length);
      }
    } else for (const [a, b] of windows(t, hits, WINDOW_BACK, WINDOW_AHEAD)) run(rule, a, b);
  }
  if (norm.zeroWidth) add('encoding.zero_width', norm.zeroWidth.count >= 3 ? 0.45 : 0.3, norm.zeroWidth.start, norm.zeroWidth.end);
  // Mixing alone stays below the threshold (keyboard-layout slips happen); it tips an attack that is also there.
  if (norm.mixedScript) add('encoding.homoglyph', Math.min(0.45, 0.25 + 0.1 * norm.mixedScript.count), norm.mixedScript.start, norm.mixedScript.end);
  if (norm.tags) add('encoding.unicode_tags', norm.tags.count >= 6 ? 0.6 : 0.35, norm.tags.start, norm.tags.end);
  if (anchors.base64.length > 0 && depth < MAX_DEPTH) {
    for (const p of base64Payloads(text, anchors.base64.map(([a, b]) => norm.span(a, b)))) {
      const inner = scoreAt(p.text, source, depth + 1).score;
      if (inner >= 0.3) add('encoding.base64', Math.min(0.97, inner + 0.1), p.start, p.end);
    }
  }
  // Framings that discount a score only matter once there is something to discount.
  if (positives.length > 0) {
    positives.sort((a, b) => a - b);
    const around = positives.length >= MAX_HITS_PER_RULE ? [[0, t.length] as [number, number]] : windows(t, positives, META_WINDOW, META_WINDOW);
    for (const rule of META_RULES) for (const [a, b] of around) run(rule, a, b);
  }
  const signals = [...best.values()];
  return { score: Math.round(combine(distinctEvidence(signals)) * 1000) / 1000, signals };
}

/**
 * Scores text for prompt injection and jailbreaks. Tool results and retrieved
 * documents weigh text addressed to the model more heavily, since data the
 * model reads should never give it instructions.
 */
export class InjectionDetector implements Detector {
  readonly name = 'injection';

  score(text: string, source: InjectionSource = 'user'): InjectionScore {
    return scoreAt(text, source, 0);
  }

  detect(text: string): Finding[] {
    const { score, signals } = this.score(text);
    if (score < INJECTION_THRESHOLD) return [];
    let top = signals[0]!;
    for (const s of signals) if (s.weight > top.weight) top = s;
    return [{ type: 'PROMPT_INJECTION', category: 'injection', start: top.start, end: top.end, confidence: score }];
  }
}
