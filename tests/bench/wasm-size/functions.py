# Per-function sizes of a wasm with a name section (after wasm-opt -Oz -g), demangled with
# rustfilt (cargo install rustfilt): python3 functions.py in.wasm out.pkl. Written by build.sh.
import sys, re, collections, subprocess, pickle
data=open(sys.argv[1],'rb').read()
def leb(b,i):
    r=s=0
    while True:
        x=b[i]; i+=1; r|=(x&0x7f)<<s; s+=7
        if x<0x80: return r,i
i=8; imports=0; code=[]; names={}; datasz=0
while i<len(data):
    sid=data[i]; i+=1; size,i=leb(data,i); end=i+size
    if sid==2:
        n,j=leb(data,i)
        for _ in range(n):
            l,j=leb(data,j); j+=l; l,j=leb(data,j); j+=l; kind=data[j]; j+=1
            if kind==0: _,j=leb(data,j); imports+=1
            elif kind==1: j+=1; f,j=leb(data,j); _,j=leb(data,j)
            elif kind==2: f,j=leb(data,j); _,j=leb(data,j)
            elif kind==3: j+=2
    elif sid==10:
        n,j=leb(data,i)
        for _ in range(n):
            s,j=leb(data,j); code.append((j,s)); j+=s
    elif sid==11: datasz=size
    elif sid==0:
        l,j=leb(data,i); nm=data[j:j+l]; j+=l
        if nm==b'name':
            while j<end:
                sub=data[j]; j+=1; ss,j=leb(data,j); se=j+ss
                if sub==1:
                    n,k=leb(data,j)
                    for _ in range(n):
                        idx,k=leb(data,k); l,k=leb(data,k); names[idx]=data[k:k+l].decode('utf8','replace'); k+=l
                j=se
    i=end
raw=[names.get(fi+imports,'?') for fi in range(len(code))]
dem=subprocess.run(['rustfilt'],input='\n'.join(raw),capture_output=True,text=True).stdout.split('\n')
import zlib
funcs=[(dem[k], code[k][1], data[code[k][0]:code[k][0]+code[k][1]]) for k in range(len(code))]
pickle.dump([(a,b) for a,b,_ in funcs],open(sys.argv[2] if len(sys.argv)>2 else 'funcs.pkl','wb'))
print('code',sum(s for _,s,_ in funcs),'data',datasz,'n',len(funcs))
