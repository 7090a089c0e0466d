# Bytes of code by the first assiette::module::item named in each function (generic
# arguments included): FUNCS=out/funcs.pkl python3 by_item.py [DEPTH]
import pickle, re, collections, sys
funcs=pickle.load(open(__import__('os').environ.get('FUNCS','funcs.pkl'),'rb'))
depth=int(sys.argv[1]) if len(sys.argv)>1 else 2
agg=collections.Counter()
for n,s in funcs:
    m=re.search(r'assiette(?:_domain)?\[[0-9a-f]+\]((?:::[A-Za-z_][\w]*)+)',n)
    if m:
        key=('D' if 'assiette_domain' in m.group(0) else 'A')+'::'.join(m.group(1).split('::')[:depth+1])
    else: key='-'
    agg[key]+=s
tot=sum(s for _,s in funcs)
for k,v in agg.most_common(60): print(f'{v:8d} {100*v/tot:5.1f}% {k}')
