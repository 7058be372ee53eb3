# Draws the SMS spam and banking intent samples under public/samples/ (see public/samples/NOTICE).
# Run from the repository root: python3 research/samples/make_samples.py [DATASETS_DIR]
import csv, random, re
BAD=re.compile(r'sex|xxx|filth|fuck|babe|flirt|adult|dogging|bong|horny|naked|porn|nude|dick|bitch|shit|damn|&lt;|&gt;|&amp;', re.I)
import sys
D=sys.argv[1] if len(sys.argv) > 1 else '../shared/data/datasets'
O='public/samples'
def rows(p):
    with open(p, newline='', encoding='utf-8') as f: return list(csv.DictReader(f))
def take(rs, labels, k, seed):
    rnd=random.Random(seed); out=[]
    for l in labels:
        c=[r for r in rs if r['label']==l]; rnd.shuffle(c)
        # short-ish texts keep the sample readable and fast
        c=[r for r in c if len(r['text'])<=160 and not BAD.search(r['text'])][:k]
        assert len(c)==k,(l,len(c))
        out+=c
    rnd.shuffle(out); return out
def write(p, rs):
    with open(p,'w',newline='',encoding='utf-8') as f:
        w=csv.writer(f, lineterminator='\n'); w.writerow(['text','label'])
        for r in rs: w.writerow([r['text'].strip(), r['label']])
write(f'{O}/sms-spam.csv', take(rows(f'{D}/sms_spam/train.csv'), ['ham','spam'], 16, 24))
write(f'{O}/sms-spam-test.csv', take(rows(f'{D}/sms_spam/test.csv'), ['ham','spam'], 50, 24))
B=['card_arrival','exchange_rate','lost_or_stolen_card','top_up_failed']
write(f'{O}/banking-intents.csv', take(rows(f'{D}/banking77/train.csv'), B, 16, 24))
write(f'{O}/banking-intents-test.csv', take(rows(f'{D}/banking77/test.csv'), B, 30, 24))
