# Biggest functions whose demangled name matches a regex, and their total:
# FUNCS=out/funcs.pkl python3 top.py REGEX [N]
import pickle, re, collections, sys
funcs=pickle.load(open(__import__('os').environ.get('FUNCS','funcs.pkl'),'rb'))
pat=sys.argv[1]; n=int(sys.argv[2]) if len(sys.argv)>2 else 40
sel=[(s,name) for name,s in funcs if re.search(pat,name)]
print('matched',len(sel),'bytes',sum(s for s,_ in sel))
for s,name in sorted(sel,reverse=True)[:n]: print(s, name[:400])
